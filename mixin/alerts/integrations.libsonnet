// EventBridge integrations (the integrations collector).
local a = import '../lib/alerts.libsonnet';

{
  alerts(c):: [
    // Enabled integrations only: a disabled one is meant to deliver nothing.
    // for: 5m. Genesys Cloud reports ERROR when it cannot deliver to the
    // partner event source; five minutes ride out a state flapping while an
    // administrator reconfigures it.
    a.alert(c, 'IntegrationError', {
      expr: |||
        (genesys_eventbridge_integration_state{%(m)sstate="ERROR"} == 1)
        and on(job, instance, integration_id)
        (genesys_eventbridge_integration_enabled%(s)s == 1)
      |||,
      summary: 'An EventBridge integration reports ERROR.',
      description: |||
        Integration {{ $labels.name }} ({{ $labels.integration_id }}) of
        {{ $labels.instance }} reports ERROR: Genesys Cloud is not delivering its
        events to Amazon EventBridge. The detail message is on the exporter's
        landing page and in its INTEGRATION_STATE_CHANGED log line.
      |||,
    }),
    // for: 10m. An enabled integration passes through ACTIVATING after a
    // change; one that is still not ACTIVE ten minutes later is stuck.
    a.alert(c, 'IntegrationNotActive', {
      expr: |||
        (genesys_eventbridge_integration_enabled%(s)s == 1)
        and on(job, instance, integration_id)
        (genesys_eventbridge_integration_state{%(m)sstate="ACTIVE"} == 0)
      |||,
      summary: 'An enabled EventBridge integration is not active.',
      description: |||
        Integration {{ $labels.name }} ({{ $labels.integration_id }}) of
        {{ $labels.instance }} is enabled but has not been ACTIVE for ${for}:
        its events may not reach Amazon EventBridge.
      |||,
    }),
    // The listing itself failing (a 403 for a client without
    // integrations:readonly, 5xx): the integrations' own series go on
    // being served until --cache.max-stale, then vanish, and their alerts
    // resolve. This says why before they do.
    // for: 10m. Shorter than the default --cache.max-stale of 15m.
    a.alert(c, 'IntegrationsFailing', {
      expr: |||
        genesys_eventbridge_integrations_up%(s)s == 0
      |||,
      summary: 'The EventBridge integrations listing is failing.',
      description: |||
        The Genesys Cloud integrations listing of {{ $labels.instance }} (job {{ $labels.job }})
        has been failing for ${for} (genesys_eventbridge_integrations_up = {{ $value }}).
        Requests in the last 15 minutes by code:
        {{ range $i, $s := printf "sum by (code) (increase(genesys_eventbridge_api_requests_total{job=%q,instance=%q,endpoint=\"integrations\"}[15m])) > 0" $labels.job $labels.instance | query | sortByLabel "code" }}{{ if $i }}, {{ end }}{{ $s.Labels.code }} ({{ printf "%.0f" $s.Value }}){{ else }}none counted{{ end }}.
        Once the last good listing is older than --cache.max-stale the integrations' series
        are no longer exported and their alerts resolve.
      |||,
    }),
  ],
}
