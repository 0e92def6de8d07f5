// The lag SLO (opt-in: _config.slo.enabled). Its indicator, per target
// (job, instance, one organisation), is one sample per rule evaluation:
// 1 when a consumer group's lag is above its threshold or an AWS rule's
// delivery lag above its own, 0 when every one is under, and no sample when
// nothing is known (the exporter down, the query failing, the data stale),
// so that such minutes count as neither good nor bad. The error ratio over a
// window is the mean of those samples. Recording rules and alerts are named
// as Sloth names them; the alerts are the Google SRE workbook's multi-window,
// multi-burn-rate pair for a 30-day objective.
local shortWindows = ['5m', '30m', '1h', '2h', '6h'];
local longWindows = ['1d', '3d', '30d'];

{
  local c = $._config,
  local slo = c.slo,
  local sel = if c.selector == '' then '' else '{%s}' % c.selector,
  // As written in the rules: 0.01, not 0.010000000000000009.
  local budget = '%g' % (1 - slo.objective),
  local labels = { sloth_service: slo.service, sloth_slo: slo.name, sloth_id: '%s-%s' % [slo.service, slo.name] },
  local ratio(window) = 'slo:sli_error:ratio_rate%s{sloth_service="%s", sloth_slo="%s"}' % [window, slo.service, slo.name],
  // Both windows of a pair above `factor` times the budget (sloth_window
  // dropped, so that the two sides match on every other label).
  local burning(factor, long, short) = |||
    (
      max without (sloth_window) (%(long)s > (%(factor)s * %(budget)s))
      and
      max without (sloth_window) (%(short)s > (%(factor)s * %(budget)s))
    )
  ||| % { long: ratio(long), short: ratio(short), factor: factor, budget: budget },

  prometheusRules+:: if !slo.enabled then { groups+: [] } else {
    groups+: [{
      name: 'genesys-eventbridge-slo',
      rules: [
        {
          record: 'genesys_eventbridge:lag_slo_error:bool',
          expr: |||
            max by (job, instance) (
              (
                (
                  genesys_eventbridge_consumer_lag_seconds%(s)s
                    > bool on(job, instance, consumer_group)
                  genesys_eventbridge_consumer_lag_threshold_seconds%(s)s
                )
                unless on(job, instance, consumer_group)
                (genesys_eventbridge_consumer_group_missing%(s)s == 1)
              )
              and on(job, instance)
              (genesys_eventbridge_up%(s)s == 1)
              or
              (
                genesys_eventbridge_rule_delivery_lag_seconds%(s)s
                  > bool on(job, instance, event_bus, rule)
                genesys_eventbridge_rule_delivery_lag_threshold_seconds%(s)s
              )
              and on(job, instance)
              (genesys_eventbridge_aws_up%(s)s == 1)
            )
          ||| % { s: sel },
          labels: labels,
        },
      ] + [
        {
          record: 'slo:sli_error:ratio_rate' + window,
          expr: 'avg_over_time(genesys_eventbridge:lag_slo_error:bool{sloth_service="%s", sloth_slo="%s"}[%s])' % [slo.service, slo.name, window],
          labels: labels { sloth_window: window },
        }
        for window in shortWindows
      ] + [
        // A day and longer: the mean of the hourly ratios, a few hundred
        // samples rather than 43,200 for 30 days at each evaluation.
        {
          record: 'slo:sli_error:ratio_rate' + window,
          expr: 'avg_over_time(max without (sloth_window) (%s)[%s:1h])' % [ratio('1h'), window],
          labels: labels { sloth_window: window },
        }
        for window in longWindows
      ] + [
        { record: 'slo:objective:ratio', expr: 'vector(%g)' % slo.objective, labels: labels },
        { record: 'slo:error_budget:ratio', expr: 'vector(%s)' % budget, labels: labels },
        { record: 'slo:time_period:days', expr: 'vector(30)', labels: labels },
        {
          record: 'slo:current_burn_rate:ratio',
          expr: 'max without (sloth_window) (%s) / %s' % [ratio('5m'), budget],
          labels: labels,
        },
        {
          record: 'slo:period_burn_rate:ratio',
          expr: 'max without (sloth_window) (%s) / %s' % [ratio('30d'), budget],
          labels: labels,
        },
        {
          record: 'slo:period_error_budget_remaining:ratio',
          expr: '1 - slo:period_burn_rate:ratio{sloth_service="%s", sloth_slo="%s"}' % [slo.service, slo.name],
          labels: labels,
        },
      ],
    }],
  },

  prometheusAlerts+:: if !slo.enabled then { groups+: [] } else {
    groups+: [{
      name: 'genesys-eventbridge-slo-alerts',
      rules: [
        {
          alert: c.alertPrefix + 'LagBudgetBurnFast',
          expr: burning(14.4, '1h', '5m') + 'or\n' + burning(6, '6h', '30m'),
          'for': c.alerts.LagBudgetBurnFast['for'],
          labels: { severity: c.alerts.LagBudgetBurnFast.severity, sloth_severity: 'page' },
          annotations: {
            summary: 'The consumer lag SLO burns its error budget fast.',
            description: 'The lag SLO of {{ $labels.instance }} (job {{ $labels.job }}, objective %g%% of minutes with every lag under its threshold over 30 days) burns its error budget at 14.4 times the sustainable rate over 1h and 5m, or 6 times over 6h and 30m: at this rate the month\'s budget is gone within days. Current burn rate (5m): {{ with printf "slo:current_burn_rate:ratio{job=%%q,instance=%%q}" $labels.job $labels.instance | query }}{{ . | first | value | printf "%%.1f" }}{{ else }}(unknown){{ end }}x.' % (slo.objective * 100),
            runbook_url: '%s#%s' % [c.runbookURL, std.asciiLower(c.alertPrefix + 'LagBudgetBurnFast')],
          },
        },
        {
          alert: c.alertPrefix + 'LagBudgetBurnSlow',
          expr: burning(3, '1d', '2h') + 'or\n' + burning(1, '3d', '6h'),
          'for': c.alerts.LagBudgetBurnSlow['for'],
          labels: { severity: c.alerts.LagBudgetBurnSlow.severity, sloth_severity: 'ticket' },
          annotations: {
            summary: 'The consumer lag SLO burns its error budget slowly.',
            description: 'The lag SLO of {{ $labels.instance }} (job {{ $labels.job }}, objective %g%% of minutes with every lag under its threshold over 30 days) burns its error budget at 3 times the sustainable rate over 1d and 2h, or at least the sustainable rate over 3d and 6h: the month\'s budget runs out before the month does. Budget left: {{ with printf "slo:period_error_budget_remaining:ratio{job=%%q,instance=%%q}" $labels.job $labels.instance | query }}{{ . | first | value | humanizePercentage }}{{ else }}(unknown){{ end }}.' % (slo.objective * 100),
            runbook_url: '%s#%s' % [c.runbookURL, std.asciiLower(c.alertPrefix + 'LagBudgetBurnSlow')],
          },
        },
      ],
    }],
  },
}
