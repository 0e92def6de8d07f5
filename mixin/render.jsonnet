// Every rendered file of the mixin, by its path in the repository: its
// format, the comment at its top and its content. scripts/render-mixin
// writes them (jsonnet evaluates, Python's YAML and JSON writers lay them
// out: jsonnet 0.18's manifestYamlDoc takes a minute for these files).
local mixin = import 'mixin.libsonnet';
local withSlo = mixin { _config+:: { slo+:: { enabled: true } } };

local yaml(header, value) = { format: 'yaml', header: header, value: value };
local generated = |||
  # Rendered from mixin/ by scripts/render-mixin: edit the mixin, not this file.
|||;
local rules = yaml(generated + |||
  # Prometheus alerting rules of genesys-eventbridge-exporter (docs/runbook.md
  # has one section per alert). Unit tests:
  #   promtool test rules alerts/genesys-eventbridge.rules.test.yml
|||, mixin.prometheusAlerts);
local am = mixin.alertmanager;

{
  'alerts/genesys-eventbridge.rules.yml': rules,
  'alerts/genesys-eventbridge-slo.rules.yml': yaml(generated + |||
    # The lag SLO (opt-in): recording rules named as Sloth names them and
    # multi-window, multi-burn-rate alerts. Load it beside
    # genesys-eventbridge.rules.yml. Unit tests:
    #   promtool test rules alerts/genesys-eventbridge-slo.rules.test.yml
  |||, {
    groups: withSlo.prometheusRules.groups + [g for g in withSlo.prometheusAlerts.groups if g.name == 'genesys-eventbridge-slo-alerts'],
  }),
  'alerts/alertmanager.piece.yml': yaml(generated + |||
    # The piece to merge into your Alertmanager configuration: put `routes`
    # under your root route's `routes` (before a route that would catch these
    # alerts first), and append `receivers` and `inhibit_rules` to yours.
    # Replace the two webhook URLs. alertmanager.example.yml is a whole
    # configuration built around this piece.
  |||, { routes: am.routes, receivers: am.receivers, inhibit_rules: am.inhibit_rules }),
  'alerts/alertmanager.example.yml': yaml(generated + |||
    # An example Alertmanager configuration around alertmanager.piece.yml:
    # lag alerts to a rebalance webhook, everything else to a default one.
    #   amtool check-config alerts/alertmanager.example.yml
  |||, {
    global: { resolve_timeout: '5m' },
    route: {
      receiver: 'genesys-eventbridge-default',
      group_by: ['alertname', 'job', 'instance'],
      routes: am.routes,
    },
    receivers: am.receivers,
    inhibit_rules: am.inhibit_rules,
  }),
  'dashboards/genesys-eventbridge.json': { format: 'json', value: mixin.grafanaDashboards['genesys-eventbridge.json'] },
  // The Helm chart's PrometheusRule reads this (charts cannot read files
  // outside their directory).
  'deploy/helm/genesys-eventbridge-exporter/files/genesys-eventbridge.rules.yml': rules,
}
