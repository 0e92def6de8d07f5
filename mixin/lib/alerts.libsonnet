// Helpers of the alert groups: selectors, durations in words, and one
// alert built from its name, its expression and its annotations.
{
  // The placeholders an expression may use: %(s)s after a bare metric name,
  // %(m)s before a selector's own matchers, and every key of _config and of
  // its thresholds.
  placeholders(config):: config + config.thresholds + {
    s: if config.selector == '' then '' else '{%s}' % config.selector,
    m: if config.selector == '' then '' else config.selector + ', ',
  },

  // '10m' -> '10 minutes', '1h' -> 'an hour': the `for` in a sentence.
  inWords(duration)::
    local unit = duration[std.length(duration) - 1];
    local n = std.parseInt(std.substr(duration, 0, std.length(duration) - 1));
    local names = { s: 'second', m: 'minute', h: 'hour', d: 'day' };
    if n == 1 then (if unit == 'h' then 'an hour' else 'a ' + names[unit])
    else '%d %ss' % [n, names[unit]],

  // A folded paragraph, as YAML's >- folds it: lines joined by one space.
  fold(text):: std.join(' ', std.filter(function(line) line != '', std.split(text, '\n'))),

  // `${for}` in a summary or description is the alert's `for` in words, and
  // `${NAME}` a duration of _config.thresholds (Prometheus templates know no
  // such variables, so nothing else means them).
  words(config, name, text)::
    local durations = { 'for': config.alerts[name]['for'] } + {
      [k]: config.thresholds[k]
      for k in std.objectFields(config.thresholds)
      if std.isString(config.thresholds[k])
    };
    std.strReplace(
      std.foldl(function(t, k) std.strReplace(t, '${%s}' % k, $.inWords(durations[k])), std.objectFields(durations), text),
      '${exporterJobName}',
      config.exporterJobName
    ),

  alert(config, name, spec)::
    local full = config.alertPrefix + name;
    local settings = config.alerts[name];
    {
      alert: full,
      expr: spec.expr % $.placeholders(config),
      'for': settings['for'],
      labels: { severity: settings.severity },
      annotations: {
        summary: $.words(config, name, spec.summary),
        description: $.words(config, name, $.fold(spec.description)),
        runbook_url: '%s#%s' % [config.runbookURL, std.asciiLower(full)],
      },
    } + (
      if std.objectHas(spec, 'keep_firing_for') then { keep_firing_for: spec.keep_firing_for } else {}
    ),
}
