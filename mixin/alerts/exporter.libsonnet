// The exporter and its queries.
local a = import '../lib/alerts.libsonnet';

{
  alerts(c):: [
    // for: 10m. Single failed queries are retried by the next scrape and
    // the cached snapshot keeps being served; ten minutes of failure is an
    // outage that will make the data stale.
    a.alert(c, 'QueryFailing', {
      expr: |||
        genesys_eventbridge_up%(s)s == 0
      |||,
      summary: 'Genesys Cloud analytics queries are failing.',
      description: |||
        The Genesys Cloud analytics queries of {{ $labels.instance }} (job
        {{ $labels.job }}) have been failing for ${for} (genesys_eventbridge_up =
        {{ $value }}). Failures in the last 10 minutes by reason:
        {{ range $i, $s := printf "sum by (reason) (increase(genesys_eventbridge_query_failures_total{job=%q,instance=%q}[10m])) > 0" $labels.job $labels.instance | query | sortByLabel "reason" }}{{ if $i }}, {{ end }}{{ $s.Labels.reason }} ({{ printf "%.0f" $s.Value }}){{ else }}none counted{{ end }}.
      |||,
    }),
    // for: 15m. A lone 429 is absorbed by its cooldown. Looking at the
    // largest cooldown of each 5-minute span and requiring it for fifteen
    // minutes catches repeated cooldowns even when scrapes fall between them.
    a.alert(c, 'RateLimited', {
      expr: |||
        max_over_time(genesys_eventbridge_rate_limit_cooldown_seconds%(s)s[%(rateLimitedSpan)s]) > 0
      |||,
      summary: 'Genesys Cloud keeps rate limiting the exporter.',
      description: |||
        Genesys Cloud has rate limited {{ $labels.instance }} (job {{ $labels.job }})
        again and again for ${for}; the longest cooldown in the last ${rateLimitedSpan}
        was {{ $value | humanizeDuration }}. Scrapes are served the last good
        snapshot while a cooldown runs.
      |||,
    }),
    // for: 5m. Data older than 10 minutes for 5 more minutes reaches the
    // default --cache.max-stale of 15m, when every per-group series
    // disappears; the age itself stays exported, so this goes on firing
    // however old the data gets.
    a.alert(c, 'DataStale', {
      expr: |||
        genesys_eventbridge_data_age_seconds%(s)s > %(dataStaleSeconds)s
      |||,
      summary: 'The exporter serves stale consumer group data.',
      description: |||
        The data served by {{ $labels.instance }} (job {{ $labels.job }}) is
        {{ $value | humanizeDuration }} old. Once it is older than --cache.max-stale
        the per-group series are no longer exported and consumer lag is not monitored.
      |||,
    }),
    // The one rule that reads Prometheus' own up: _config.exporterJobSelector
    // names the scrape jobs of the exporter.
    // for: 5m. Rides out a restart or a few missed scrapes.
    a.alert(c, 'ExporterDown', {
      expr: |||
        up{%(exporterJobSelector)s} == 0
        or
        absent(up{%(exporterJobSelector)s})
      |||,
      summary: 'The Genesys EventBridge exporter cannot be scraped.',
      description: |||
        {{ if $labels.instance }}Prometheus has failed to scrape {{ $labels.instance }}
        (job {{ $labels.job }}) for ${for} (up = {{ $value }}).{{ else }}No scrape
        target whose job matches ${exporterJobName} has existed for ${for}.{{ end }}
        Consumer lag is not monitored meanwhile.
      |||,
    }),
    // for: 10m. A certificate rotation that writes the key and the
    // certificate one after the other is refused for a moment; a change
    // still refused after ten minutes will not fix itself.
    a.alert(c, 'WebConfigRefused', {
      expr: |||
        genesys_eventbridge_web_config_last_reload_successful%(s)s == 0
      |||,
      summary: 'The exporter refuses a change to its web configuration.',
      description: |||
        {{ $labels.instance }} (job {{ $labels.job }}) has refused the changed
        --web.config.file for ${for} and serves with the configuration loaded
        before: a rotated certificate or changed password is not in force.
      |||,
    }),
    // for: 10m. A file written in several steps is refused for a moment;
    // a change still refused after ten minutes will not fix itself.
    a.alert(c, 'ConfigRefused', {
      expr: |||
        genesys_eventbridge_config_last_reload_successful%(s)s == 0
      |||,
      summary: 'The exporter refuses a change to its configuration file.',
      description: |||
        {{ $labels.instance }} (job {{ $labels.job }}) has refused the changed
        --config.file for ${for} and runs with the organisations, groups and
        thresholds loaded before.
      |||,
    }),
  ],
}
