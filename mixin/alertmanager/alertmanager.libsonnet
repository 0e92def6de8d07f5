// The Alertmanager piece: routes, receivers and inhibition rules to merge
// into a user's configuration, and a whole example configuration around it.
// Every inhibition silences only what its source alert explains, for the
// same target (job, instance) and the same group, integration or bus.
local names(c, list) = std.join('|', [c.alertPrefix + n for n in list]);
local one(c, n) = 'alertname="%s%s"' % [c.alertPrefix, n];
local any(c, list) = 'alertname=~"%s"' % names(c, list);

local perGroup = ['ConsumerLagHigh', 'ProcessingLatencyHigh', 'LagWillBreach'];
local ruleAlerts = ['RuleDeliveryLagHigh', 'RuleDeliveryFailing', 'RuleDeadLettered', 'RuleThrottled', 'RuleMissing'];

{
  alertmanager+:: {
    local c = $._config,
    // Sent to the rebalance webhook: a consumer group's lag, and a rule's
    // delivery lag on the AWS path.
    rebalanceAlerts:: ['ConsumerLagHigh', 'LagWillBreach', 'RuleDeliveryLagHigh'],

    routes: [
      {
        receiver: 'genesys-eventbridge-rebalance',
        matchers: [any(c, $.alertmanager.rebalanceAlerts)],
        // One rebalance decision per consumer group of one organisation
        // (instance), or per rule of an event bus: the same group name in two
        // organisations is two notifications. An alert lacks the labels of
        // the other kind, which then group as empty.
        group_by: ['alertname', 'instance', 'consumer_group', 'event_bus', 'rule'],
        group_wait: '30s',
        group_interval: '5m',
        // A group still lagging an hour later is notified again: the receiver
        // must treat a repeat as "still lagging", not as a new incident.
        repeat_interval: '1h',
      },
      {
        receiver: 'genesys-eventbridge-default',
        matchers: ['alertname=~"%s.*"' % c.alertPrefix],
        group_by: ['alertname', 'job', 'instance', 'consumer_group'],
        group_wait: '30s',
        group_interval: '5m',
        repeat_interval: '4h',
      },
    ],

    receivers: [
      {
        name: 'genesys-eventbridge-default',
        webhook_configs: [{ url: 'http://127.0.0.1:9099/default', send_resolved: true }],
      },
      {
        name: 'genesys-eventbridge-rebalance',
        webhook_configs: [{ url: 'http://127.0.0.1:9099/rebalance', send_resolved: true, max_alerts: 0 }],
      },
    ],

    inhibit_rules: [
      // The exporter cannot be scraped, cannot query Genesys Cloud, or serves
      // stale data: the per-group alerts of that target say nothing about the
      // consumers.
      {
        source_matchers: [any(c, ['ExporterDown', 'QueryFailing', 'DataStale'])],
        target_matchers: [any(c, perGroup + ['ConsumerGroupMissing', 'ConsumerStalled'])],
        equal: ['job', 'instance'],
      },
      // A configured group that returns no rows is reported once, as missing.
      {
        source_matchers: [one(c, 'ConsumerGroupMissing')],
        target_matchers: [any(c, perGroup + ['ConsumerStalled'])],
        equal: ['job', 'instance', 'consumer_group'],
      },
      // A group that stopped returning rows is reported as stalled, not also
      // by the lag alert that goes on firing for it a while.
      {
        source_matchers: [one(c, 'ConsumerStalled')],
        target_matchers: [any(c, perGroup)],
        equal: ['job', 'instance', 'consumer_group'],
      },
      // An integration in ERROR is reported once, as in error.
      {
        source_matchers: [one(c, 'IntegrationError')],
        target_matchers: [one(c, 'IntegrationNotActive')],
        equal: ['job', 'instance', 'integration_id'],
      },
      // A partner event source that is not ACTIVE receives nothing: its own
      // integration reports ERROR or not ACTIVE because of it.
      {
        source_matchers: [one(c, 'EventSourceNotActive')],
        target_matchers: [any(c, ['IntegrationError', 'IntegrationNotActive'])],
        equal: ['job', 'instance', 'integration_id'],
      },
      // ...and the rules of the partner bus of the same name get nothing to
      // deliver (the source alert carries its own name as event_bus). Rules
      // of other buses stay reported.
      {
        source_matchers: [one(c, 'EventSourceNotActive')],
        target_matchers: [any(c, ruleAlerts)],
        equal: ['job', 'instance', 'event_bus'],
      },
    ],
  },
}
