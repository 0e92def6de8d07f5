{
  prometheusRules+:: { groups+: [] },
  prometheusSloAlerts+:: { groups+: [] },
}
