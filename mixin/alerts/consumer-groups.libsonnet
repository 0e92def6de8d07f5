// Consumer groups of the analytics query. Each alert compares a group with
// the thresholds the exporter publishes for it, joined
// on(job, instance, consumer_group): thresholds set per group in the
// exporter's --config.file take effect without changing the rules.
local a = import '../lib/alerts.libsonnet';

{
  alerts(c):: [
    // for: 5m. The lag is recomputed once per --cache.ttl from a one-hour
    // window, so one high reading is not yet a trend; five minutes keep
    // rebalances from being triggered by a single burst.
    // A group that was lagging when it returned its last rows goes on
    // firing for lagKeptWhileGone (the second half): a lag alert does not
    // resolve into silence when its group goes missing or vanishes; by then
    // GenesysEventBridgeConsumerStalled or ConsumerGroupMissing fire, and
    // mute it in Alertmanager.
    a.alert(c, 'ConsumerLagHigh', {
      expr: |||
        (
          (
            genesys_eventbridge_consumer_lag_seconds%(s)s
              > on(job, instance, consumer_group)
            genesys_eventbridge_consumer_lag_threshold_seconds%(s)s
          )
          unless on(job, instance, consumer_group)
          (genesys_eventbridge_consumer_group_missing%(s)s == 1)
        )
        or on(job, instance, consumer_group)
        (
          max_over_time(
            (
              (
                genesys_eventbridge_consumer_lag_seconds%(s)s
                  > on(job, instance, consumer_group)
                genesys_eventbridge_consumer_lag_threshold_seconds%(s)s
              )
              unless on(job, instance, consumer_group)
              (genesys_eventbridge_consumer_group_missing%(s)s == 1)
            )[%(lagKeptWhileGone)s:]
          )
          unless on(job, instance, consumer_group)
          (genesys_eventbridge_consumer_group_missing%(s)s == 0)
        )
      |||,
      summary: 'Consumer group lag is above its threshold.',
      description: |||
        Consumer group {{ $labels.consumer_group }} lags
        {{ $value | humanizeDuration }} behind, above its threshold of
        {{ with printf "genesys_eventbridge_consumer_lag_threshold_seconds{job=%q,instance=%q,consumer_group=%q}" $labels.job $labels.instance $labels.consumer_group | query }}{{ . | first | value | humanizeDuration }}{{ else }}(unknown){{ end }}
        (reported by {{ $labels.instance }}).
        {{- with printf "genesys_eventbridge_consumer_group_missing{job=%q,instance=%q,consumer_group=%q} == 0" $labels.job $labels.instance $labels.consumer_group | query }}{{ else }} That was its last reading: the group has returned no rows since.{{ end }}
      |||,
    }),
    a.alert(c, 'ProcessingLatencyHigh', {
      expr: |||
        (
          genesys_eventbridge_consumer_processing_latency_seconds%(s)s
            > on(job, instance, consumer_group)
          genesys_eventbridge_consumer_processing_latency_threshold_seconds%(s)s
        )
        unless on(job, instance, consumer_group)
        (genesys_eventbridge_consumer_group_missing%(s)s == 1)
      |||,
      summary: 'Mean processing latency of a consumer group is above its threshold.',
      description: |||
        Mean processing latency of consumer group {{ $labels.consumer_group }}
        is {{ $value | humanizeDuration }}, above its threshold of
        {{ with printf "genesys_eventbridge_consumer_processing_latency_threshold_seconds{job=%q,instance=%q,consumer_group=%q}" $labels.job $labels.instance $labels.consumer_group | query }}{{ . | first | value | humanizeDuration }}{{ else }}(unknown){{ end }}
        (reported by {{ $labels.instance }}).
      |||,
    }),
    // Only a lag already above half its threshold counts: a small lag with
    // a noisy slope (or a short history) is not about to breach.
    // for: 5m. The trend is fitted over 30 minutes already; five more
    // minutes of agreement filter out a single jump while leaving about ten
    // minutes of warning before the threshold is crossed.
    a.alert(c, 'LagWillBreach', {
      expr: |||
        (
          predict_linear(genesys_eventbridge_consumer_lag_seconds%(s)s[%(lagTrendWindow)s], %(lagTrendHorizonSeconds)s)
            > on(job, instance, consumer_group)
          genesys_eventbridge_consumer_lag_threshold_seconds%(s)s
        )
        and on(job, instance, consumer_group)
        (
          genesys_eventbridge_consumer_lag_seconds%(s)s
            > on(job, instance, consumer_group)
          0.5 * genesys_eventbridge_consumer_lag_threshold_seconds%(s)s
        )
        unless on(job, instance, consumer_group)
        (
          genesys_eventbridge_consumer_lag_seconds%(s)s
            > on(job, instance, consumer_group)
          genesys_eventbridge_consumer_lag_threshold_seconds%(s)s
        )
        unless on(job, instance, consumer_group)
        (genesys_eventbridge_consumer_group_missing%(s)s == 1)
      |||,
      summary: 'Consumer group lag is trending to cross its threshold within 15 minutes.',
      description: |||
        At its 30-minute trend, the lag of consumer group {{ $labels.consumer_group }}
        reaches {{ $value | humanizeDuration }} within 15 minutes, above its threshold of
        {{ with printf "genesys_eventbridge_consumer_lag_threshold_seconds{job=%q,instance=%q,consumer_group=%q}" $labels.job $labels.instance $labels.consumer_group | query }}{{ . | first | value | humanizeDuration }}{{ else }}(unknown){{ end }}
        (reported by {{ $labels.instance }}).
      |||,
    }),
    // for: 10m. "Missing" already means no row in the whole query window;
    // ten minutes confirm it over several queries before anyone is told.
    a.alert(c, 'ConsumerGroupMissing', {
      expr: |||
        genesys_eventbridge_consumer_group_missing%(s)s == 1
      |||,
      summary: 'A configured consumer group returns no analytics rows.',
      description: |||
        Consumer group {{ $labels.consumer_group }} is configured but returned no
        rows in the latest query window of {{ $labels.instance }}
        (genesys_eventbridge_consumer_group_missing = {{ $value }}): the partition
        assignment does not include it, or it processed no event at all.
      |||,
    }),
    // A group that returned rows within groupSeenWithin and returns none
    // now: it vanished from the answer (no configured groups) or is missing
    // (configured). Consumers that stop processing make their group go
    // quiet, not lag: the analytics query has no row for a group with no
    // event in its window. Only while the organisation's latest query
    // succeeded: a failing query or a stale cache is the exporter's alerts'.
    // for: 5m. Shorter than lagKeptWhileGone, so that it takes over from a
    // lag alert that goes on firing for the group.
    a.alert(c, 'ConsumerStalled', {
      expr: |||
        (min_over_time(genesys_eventbridge_consumer_group_missing%(s)s[%(groupSeenWithin)s]) == 0)
        unless on(job, instance, consumer_group)
        (genesys_eventbridge_consumer_group_missing%(s)s == 0)
        and on(job, instance)
        (genesys_eventbridge_up%(s)s == 1)
      |||,
      summary: 'A consumer group has stopped returning analytics rows.',
      description: |||
        Consumer group {{ $labels.consumer_group }} returned rows to {{ $labels.instance }}
        within the last ${groupSeenWithin} but has returned none for ${for}, although the
        query succeeds: its consumers processed no event in the query window
        (stalled, stopped or removed).
      |||,
    }),
  ],
}
