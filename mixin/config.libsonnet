// What a user of the mixin overrides, without forking the rendered files:
//
//   (import 'genesys-eventbridge-mixin/mixin.libsonnet') + {
//     _config+:: {
//       selector: 'job="genesys-prod"',
//       alerts+:: { ConsumerLagHigh+: { severity: 'warning' } },
//       slo+:: { enabled: true },
//     },
//   }
{
  _config+:: {
    // Matchers added to every selector of the exporter's series in the
    // rules ('' selects them wherever they come from).
    selector: '',
    // The scrape jobs of the exporter, for GenesysEventBridgeExporterDown
    // (the one rule that reads Prometheus' own `up`).
    exporterJobSelector: 'job=~"genesys-eventbridge.*"',
    // What the description of ExporterDown calls that selector.
    exporterJobName: 'genesys-eventbridge.*',

    alertPrefix: 'GenesysEventBridge',
    runbookURL: 'https://github.com/genesys-eventbridge-exporter/genesys-eventbridge-exporter/blob/main/docs/runbook.md',

    // Every alert's severity and `for`, by its name without the prefix.
    // The descriptions say the `for` in words, so they follow an override.
    alerts:: {
      ConsumerLagHigh: { severity: 'critical', 'for': '5m' },
      ProcessingLatencyHigh: { severity: 'warning', 'for': '10m' },
      LagWillBreach: { severity: 'warning', 'for': '5m' },
      ConsumerGroupMissing: { severity: 'warning', 'for': '10m' },
      ConsumerStalled: { severity: 'warning', 'for': '5m' },
      QueryFailing: { severity: 'warning', 'for': '10m' },
      RateLimited: { severity: 'warning', 'for': '15m' },
      DataStale: { severity: 'critical', 'for': '5m' },
      ExporterDown: { severity: 'critical', 'for': '5m' },
      WebConfigRefused: { severity: 'warning', 'for': '10m' },
      ConfigRefused: { severity: 'warning', 'for': '10m' },
      IntegrationError: { severity: 'critical', 'for': '5m' },
      IntegrationNotActive: { severity: 'warning', 'for': '10m' },
      IntegrationsFailing: { severity: 'warning', 'for': '10m' },
      EventSourceNotActive: { severity: 'critical', 'for': '5m' },
      NoEventsIngested: { severity: 'warning', 'for': '1h' },
      RuleDeliveryFailing: { severity: 'critical', 'for': '0m' },
      RuleDeadLettered: { severity: 'warning', 'for': '0m' },
      RuleThrottled: { severity: 'warning', 'for': '10m' },
      RuleDeliveryLagHigh: { severity: 'warning', 'for': '5m' },
      RuleMissing: { severity: 'warning', 'for': '10m' },
      AWSCollectorFailing: { severity: 'warning', 'for': '10m' },
      // The lag SLO's (with slo.enabled): page and ticket. No `for`: the
      // short window of each pair already rules out a burn that has ended.
      LagBudgetBurnFast: { severity: 'critical', 'for': '0m' },
      LagBudgetBurnSlow: { severity: 'warning', 'for': '0m' },
    },

    // Thresholds of the alerts that have one of their own (the per-group
    // and per-rule thresholds are the exporter's gauges, set by its flags
    // and configuration file).
    thresholds:: {
      // GenesysEventBridgeDataStale: data older than this, in seconds.
      dataStaleSeconds: 600,
      // GenesysEventBridgeLagWillBreach: the trend's history and horizon.
      lagTrendWindow: '30m',
      lagTrendHorizonSeconds: 900,
      // GenesysEventBridgeConsumerStalled: a group that returned rows
      // within this time and none now has stalled or vanished.
      groupSeenWithin: '6h',
      // GenesysEventBridgeConsumerLagHigh goes on firing this long for a
      // group that was lagging when it returned its last row, so that it
      // does not resolve before ConsumerStalled or ConsumerGroupMissing
      // (whose `for` must be shorter) take over.
      lagKeptWhileGone: '15m',
      // GenesysEventBridgeRateLimited: the span whose longest cooldown counts.
      rateLimitedSpan: '5m',
    },

    // The lag SLO (opt-in): the share of minutes in which every consumer
    // group's lag is under its threshold, and likewise every AWS rule's
    // delivery lag.
    slo:: {
      enabled: false,
      objective: 0.98,
      // Sloth's labels on every SLO series.
      service: 'genesys-eventbridge',
      name: 'consumer-lag',
      // Page (alerts.LagBudgetBurnFast): 14.4x over 1h and 5m, 6x over
      // 6h and 30m; ticket (alerts.LagBudgetBurnSlow): 3x over 1d and 2h,
      // 1x over 3d and 6h (a 30-day objective).
    },

    // Grafana.
    dashboard:: {
      uid: 'genesys-eventbridge',
      title: 'Genesys Cloud EventBridge',
      // The jobs the variables list: the exporter's own (its /metrics: the
      // process figures) and the organisations' (/metrics or /probe).
      exporterJobRegex: 'genesys-eventbridge.*',
      refresh: '1m',
    },
  },
}
