// The delivery path on AWS (the aws collector): partner event sources,
// joined to the integration that feeds them on(job, instance,
// integration_id), and the rules of their event buses, joined on(job,
// instance, event_bus, rule). The figures describe one whole --aws.period
// (5m by default) and change once per --aws.cache.ttl (5m), so the `for`
// durations count periods in a row. Without the aws collector none of
// these series exist and nothing fires.
local a = import '../lib/alerts.libsonnet';

{
  alerts(c):: [
    // A source whose integration is enabled, or one named in
    // aws.event_sources (integration_id "none": no integration is known,
    // and naming it says it should deliver). event_bus repeats
    // event_source, the name of the partner bus that should receive its
    // events, so that Alertmanager can mute the alerts of that bus's rules
    // (inhibitions need the same label name on both sides).
    // for: 5m. The state is read once per --aws.cache.ttl (5m): two
    // readings in a row. As long as GenesysEventBridgeIntegrationError's,
    // so that this alert (the cause on the AWS side) is there to mute that
    // one (its symptom on the Genesys side) for the same integration.
    a.alert(c, 'EventSourceNotActive', {
      expr: |||
        label_replace(
          (
            genesys_eventbridge_event_source_info%(s)s
              * on(job, instance, event_source) group_left()
            (genesys_eventbridge_event_source_state{%(m)sstate="ACTIVE"} == 0)
          )
          * on(job, instance, integration_id) group_left(name)
          (genesys_eventbridge_integration_enabled%(s)s == 1)
          or
          (
            genesys_eventbridge_event_source_info{%(m)sintegration_id="none"}
              * on(job, instance, event_source) group_left()
            (genesys_eventbridge_event_source_state{%(m)sstate="ACTIVE"} == 0)
          ),
          "event_bus", "$1", "event_source", "(.+)"
        )
      |||,
      summary: 'A partner event source is not ACTIVE while its integration is enabled.',
      description: |||
        {{ $state := "" }}{{ with printf "genesys_eventbridge_event_source_state{job=%q,instance=%q,event_source=%q} == 1" $labels.job $labels.instance $labels.event_source | query }}{{ $state = . | first | label "state" }}{{ end -}}
        The partner event source {{ $labels.event_source }} of {{ $labels.instance }}
        (AWS account {{ $labels.aws_account_id }}, {{ $labels.region }}) is
        {{ if eq $state "PENDING" "DELETED" }}{{ $state }}{{ else if eq $state "not_found" }}not found{{ else }}in a state the exporter does not know{{ end }},
        not ACTIVE, while {{ with $labels.name }}its integration {{ . }} ({{ $labels.integration_id }}) is enabled{{ else }}it is named in aws.event_sources{{ end }}:
        Genesys Cloud's events are not delivered to any event bus.
        {{- if eq $state "PENDING" }} PENDING means that no partner event bus is associated with the source (none was created, or it was deleted or deactivated).{{ end }}
        {{- if eq $state "DELETED" }} The source was deleted; Genesys Cloud creates it again when the integration is deactivated and activated.{{ end }}
        {{- if eq $state "not_found" }} AWS knows no such source in that account and region: check the account and region configured for it.{{ end }}
        {{- with printf "genesys_eventbridge_event_source_expiry_timestamp_seconds{job=%q,instance=%q,event_source=%q}" $labels.job $labels.instance $labels.event_source | query }} Unless a bus is associated with it first, AWS deletes the source at {{ . | first | value | humanizeTimestamp }}.{{ end }}
      |||,
    }),
    // An ACTIVE source fed by an integration that reports ACTIVE (or named
    // in aws.event_sources) whose events count is 0. A count with no
    // CloudWatch datapoint is exported as 0: a source that AWS does not
    // hear from at all counts here too.
    // for: 1h. Every period of the last hour empty. An organisation whose
    // integration subscribes to rare topics, or that is quiet at night,
    // needs a longer time here: see alerts/README.md.
    // --- Rules of the partner event buses --------------------------------------
    a.alert(c, 'NoEventsIngested', {
      expr: |||
        (
          (genesys_eventbridge_event_source_events%(s)s == 0)
          * on(job, instance, event_source) group_left(integration_id)
          genesys_eventbridge_event_source_info%(s)s
          * on(job, instance, integration_id) group_left(name)
          (genesys_eventbridge_integration_state{%(m)sstate="ACTIVE"} == 1)
          or
          (genesys_eventbridge_event_source_events%(s)s == 0)
          * on(job, instance, event_source) group_left(integration_id)
          genesys_eventbridge_event_source_info{%(m)sintegration_id="none"}
        )
        and on(job, instance, event_source)
        (genesys_eventbridge_event_source_state{%(m)sstate="ACTIVE"} == 1)
      |||,
      summary: 'A partner event source has ingested no events for ${for}.',
      description: |||
        AWS has counted no event from the partner event source {{ $labels.event_source }}
        of {{ $labels.instance }} for ${for}, although the source is ACTIVE and
        {{ with $labels.name }}its integration {{ . }} ({{ $labels.integration_id }}) reports ACTIVE{{ else }}it is named in aws.event_sources{{ end }}:
        Genesys Cloud is sending no events to AWS.
      |||,
    }),
    // Events are lost when a rule fails to send them to a dead-letter
    // queue, or when its permanent failures are more than its
    // dead-letter queues received or failed to receive. For a rule whose
    // every target has a queue, a failed event goes there
    // (GenesysEventBridgeRuleDeadLettered) and is not lost. CloudWatch's
    // figures are per rule, not per target: a rule with any target
    // without a queue counts every permanent failure as lost.
    // for: 0m. The figure counts events already lost in a period that
    // ended minutes ago, not a reading that may come back down: waiting
    // would only delay the news. keep_firing_for: 30m makes failures that
    // come and go one incident, resolved after half an hour without any;
    // the description gives the worst periods of that half hour.
    a.alert(c, 'RuleDeliveryFailing', {
      expr: |||
        (
          genesys_eventbridge_rule_failed_invocations%(s)s > 0
          and on(job, instance, event_bus, rule)
          genesys_eventbridge_rule_targets_without_dead_letter_queue%(s)s > 0
        )
        or on(job, instance, event_bus, rule)
        (
          genesys_eventbridge_rule_failed_invocations%(s)s
            > on(job, instance, event_bus, rule)
          (
            genesys_eventbridge_rule_dead_letter_invocations%(s)s
              + on(job, instance, event_bus, rule)
            genesys_eventbridge_rule_dead_letter_failures%(s)s
          )
        )
        or on(job, instance, event_bus, rule)
        genesys_eventbridge_rule_dead_letter_failures%(s)s > 0
      |||,
      keep_firing_for: '30m',
      summary: 'An EventBridge rule is losing events.',
      description: |||
        {{ $rule := printf "{job=%q,instance=%q,event_bus=%q,rule=%q}" $labels.job $labels.instance $labels.event_bus $labels.rule -}}
        Rule {{ $labels.rule }} on event bus {{ $labels.event_bus }} of {{ $labels.instance }}
        is losing events. In a period of the last 30 minutes, up to
        {{ with printf "max_over_time(genesys_eventbridge_rule_failed_invocations%s[30m])" $rule | query }}{{ . | first | value | printf "%.0f" }}{{ else }}(unknown){{ end }} invocations failed permanently, up to
        {{ with printf "max_over_time(genesys_eventbridge_rule_dead_letter_invocations%s[30m])" $rule | query }}{{ . | first | value | printf "%.0f" }}{{ else }}(unknown){{ end }} were sent to a dead-letter queue and up to
        {{ with printf "max_over_time(genesys_eventbridge_rule_dead_letter_failures%s[30m])" $rule | query }}{{ . | first | value | printf "%.0f" }}{{ else }}(unknown){{ end }} could not be sent there;
        {{ with printf "genesys_eventbridge_rule_targets_without_dead_letter_queue%s" $rule | query }}{{ . | first | value | printf "%.0f" }}{{ else }}(unknown){{ end }} of its
        {{ with printf "genesys_eventbridge_rule_targets%s" $rule | query }}{{ . | first | value | printf "%.0f" }}{{ else }}(unknown){{ end }} targets have no dead-letter queue.
      |||,
    }),
    // for: 0m, keep_firing_for: 30m. Events sent to a dead-letter queue
    // are a fact of a past period: they wait there to be sent again,
    // however short the failure was.
    a.alert(c, 'RuleDeadLettered', {
      expr: |||
        genesys_eventbridge_rule_dead_letter_invocations%(s)s > 0
      |||,
      keep_firing_for: '30m',
      summary: 'An EventBridge rule sends events to its dead-letter queue.',
      description: |||
        Rule {{ $labels.rule }} on event bus {{ $labels.event_bus }} of {{ $labels.instance }}
        has sent events to a dead-letter queue, up to
        {{ with printf "max_over_time(genesys_eventbridge_rule_dead_letter_invocations{job=%q,instance=%q,event_bus=%q,rule=%q}[30m])" $labels.job $labels.instance $labels.event_bus $labels.rule | query }}{{ . | first | value | printf "%.0f" }}{{ else }}(unknown){{ end }}
        in a period of the last 30 minutes: they were not delivered to their target and
        wait in the queue to be sent again.
      |||,
    }),
    // for: 10m. Three periods in a row: a burst that EventBridge absorbs
    // with a few retries is not worth a warning, throttling that lasts
    // delays every delivery of the rule.
    a.alert(c, 'RuleThrottled', {
      expr: |||
        genesys_eventbridge_rule_throttled%(s)s > 0
      |||,
      summary: 'An EventBridge rule keeps being throttled.',
      description: |||
        {{ $rule := printf "{job=%q,instance=%q,event_bus=%q,rule=%q}" $labels.job $labels.instance $labels.event_bus $labels.rule -}}
        Rule {{ $labels.rule }} on event bus {{ $labels.event_bus }} of {{ $labels.instance }}
        has been throttled for ${for}: {{ $value | printf "%.0f" }} throttled rule runs and
        {{ with printf "genesys_eventbridge_rule_retry_invocation_attempts%s" $rule | query }}{{ . | first | value | printf "%.0f" }}{{ else }}(unknown){{ end }} retry attempts
        in the period that ended at
        {{ with printf "genesys_eventbridge_aws_period_end_timestamp_seconds{job=%q,instance=%q}" $labels.job $labels.instance | query }}{{ . | first | value | humanizeTimestamp }}{{ else }}(unknown){{ end }}.
        Its events are delivered late, and fail once retries run out.
      |||,
    }),
    // The slowest delivery of the period (IngestionToInvocationSuccessLatency,
    // Maximum) against the rule's threshold. A rule with no delivery in
    // the period exports no lag, and does not alert.
    // for: 5m. Two periods in a row: one slow event in one period does not
    // trigger a rebalance.
    a.alert(c, 'RuleDeliveryLagHigh', {
      expr: |||
        genesys_eventbridge_rule_delivery_lag_seconds%(s)s
          > on(job, instance, event_bus, rule)
        genesys_eventbridge_rule_delivery_lag_threshold_seconds%(s)s
      |||,
      summary: "EventBridge delivers a rule's events later than its threshold.",
      description: |||
        The slowest delivery of rule {{ $labels.rule }} on event bus {{ $labels.event_bus }}
        took {{ $value | humanizeDuration }} from ingestion to its target in the period that ended at
        {{ with printf "genesys_eventbridge_aws_period_end_timestamp_seconds{job=%q,instance=%q}" $labels.job $labels.instance | query }}{{ . | first | value | humanizeTimestamp }}{{ else }}(unknown){{ end }},
        above its threshold of
        {{ with printf "genesys_eventbridge_rule_delivery_lag_threshold_seconds{job=%q,instance=%q,event_bus=%q,rule=%q}" $labels.job $labels.instance $labels.event_bus $labels.rule | query }}{{ . | first | value | humanizeDuration }}{{ else }}(unknown){{ end }}
        (reported by {{ $labels.instance }}).
      |||,
    }),
    // for: 10m. Three listings in a row: a rule that infrastructure code
    // deletes and puts back is gone for a moment only.
    // --- The aws collector ---------------------------------------------------
    a.alert(c, 'RuleMissing', {
      expr: |||
        genesys_eventbridge_rule_missing%(s)s == 1
      |||,
      summary: 'A watched EventBridge rule is not on its event bus.',
      description: |||
        Rule {{ $labels.rule }} is listed in aws.rules of {{ $labels.instance }} but is
        not on event bus {{ $labels.event_bus }} (genesys_eventbridge_rule_missing =
        {{ $value }}): the events it should route reach none of its consumers.
      |||,
    }),
    // for: 10m. Three AWS cycles in a row (one per --aws.cache.ttl, 5m)
    // with a failed call. The last good figures are served meanwhile;
    // after --cache.max-stale (15m) they are no longer exported.
    a.alert(c, 'AWSCollectorFailing', {
      expr: |||
        genesys_eventbridge_aws_up%(s)s == 0
      |||,
      summary: "The exporter's calls to AWS are failing.",
      description: |||
        The AWS calls of {{ $labels.instance }} (job {{ $labels.job }}) have been failing
        for ${for} (genesys_eventbridge_aws_up = {{ $value }}). Failed requests in the
        last 15 minutes by service, operation and code:
        {{ range $i, $s := printf "sum by (service, operation, code) (increase(genesys_eventbridge_aws_requests_total{job=%q,instance=%q,code!~%q}[15m])) > 0" $labels.job $labels.instance "2.." | query | sortByLabel "operation" }}{{ if $i }}, {{ end }}{{ $s.Labels.service }} {{ $s.Labels.operation }} {{ $s.Labels.code }} ({{ printf "%.0f" $s.Value }}){{ else }}none counted{{ end }}.
        The last good AWS figures are served until they are older than --cache.max-stale.
      |||,
    }),
  ],
}
