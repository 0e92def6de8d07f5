// The monitoring mixin of genesys-eventbridge-exporter: alerting rules,
// the opt-in lag SLO's recording rules and alerts, and the Grafana
// dashboard, all from one _config (config.libsonnet). scripts/render-mixin
// renders alerts/ and dashboards/ from it.
(import 'config.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'alertmanager/alertmanager.libsonnet') +
(import 'rules/slo.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
