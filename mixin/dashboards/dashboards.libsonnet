// The Grafana dashboard: consumer groups, the exporter and its queries,
// integrations, the delivery path on AWS.
local d = import '../lib/dashboard.libsonnet';

// A stat of a 0/1 series, red with downText at 0, green with upText at 1.
local upStat(id, title, grid, description, expr, downText, upText) =
  d.panel('stat', id, title, grid, 'none', description, [d.q(expr, '{{instance}}')]) + {
    options+: { colorMode: 'background', graphMode: 'none' },
    fieldConfig+: {
      defaults+: {
        mappings: [{
          type: 'value',
          options: {
            '0': { text: downText, color: 'red', index: 0 },
            '1': { text: upText, color: 'green', index: 1 },
          },
        }],
        thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'green', value: 1 }] },
      },
    },
  };

local panels(c) = [
  // Two up stats: Prometheus' up of the exporter itself, and whether the
  // organisations' latest analytics query succeeded.
  upStat(1,
         'Exporter up',
         d.grid(0, 0, 2, 4),
         "Prometheus' up of each exporter (the targets of the Exporter job): Up when its scrape succeeded, Down when the exporter could not be scraped. A failing Genesys Cloud query does not make it Down (see Analytics query).",
         'up{job=~"$exporter_job", instance=~"$exporter_instance"}',
         'Down',
         'Up'),
  upStat(43,
         'Analytics query',
         d.grid(2, 0, 2, 4),
         'genesys_eventbridge_up per organisation: OK when its latest Genesys Cloud analytics query succeeded, Failing when it did not. A failing organisation keeps being served its last good snapshot until that is older than --cache.max-stale.',
         'genesys_eventbridge_up{job=~"$job", instance=~"$instance"}',
         'Failing',
         'OK'),
  d.panel('stat',
          2,
          'Groups over a threshold',
          d.grid(4, 0, 4, 4),
          'none',
          'Consumer groups whose lag exceeds their lag or processing-latency threshold (genesys_eventbridge_consumer_threshold_exceeded), counted once per group across exporters.',
          [
            d.q('sum(max by (consumer_group) (genesys_eventbridge_consumer_threshold_exceeded{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}))', ''),
          ]) + {
    fieldConfig+: {
      defaults+: {
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
            {
              color: 'red',
              value: 1,
            },
          ],
        },
      },
    },
  },
  d.panel('stat',
          3,
          'Missing consumer groups',
          d.grid(8, 0, 4, 4),
          'none',
          'Configured consumer groups that returned no analytics row in the query window (genesys_eventbridge_consumer_group_missing): the partition assignment mismatch.',
          [
            d.q('sum(max by (consumer_group) (genesys_eventbridge_consumer_group_missing{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}))', ''),
          ]) + {
    fieldConfig+: {
      defaults+: {
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
            {
              color: 'red',
              value: 1,
            },
          ],
        },
      },
    },
  },
  d.panel('stat',
          4,
          'Data age',
          d.grid(12, 0, 4, 4),
          's',
          'Age of the data the exporters serve, the oldest across exporters (genesys_eventbridge_data_age_seconds). Per-group series disappear once it passes --cache.max-stale (15m by default).',
          [
            d.q('max(genesys_eventbridge_data_age_seconds{job=~"$job", instance=~"$instance"})', ''),
          ]) + {
    fieldConfig+: {
      defaults+: {
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
            {
              color: 'orange',
              value: 300,
            },
            {
              color: 'red',
              value: 600,
            },
          ],
        },
      },
    },
  },
  d.panel('stat',
          5,
          'Token expires in',
          d.grid(16, 0, 4, 4),
          's',
          'Time until the current OAuth access token expires, the soonest across exporters (genesys_eventbridge_token_expiry_timestamp_seconds - time()). The exporter refreshes it ahead of expiry; a value near or below zero means refreshing fails.',
          [
            d.q('min(genesys_eventbridge_token_expiry_timestamp_seconds{job=~"$job", instance=~"$instance"}) - time()', ''),
          ]) + {
    fieldConfig+: {
      defaults+: {
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'red',
              value: null,
            },
            {
              color: 'orange',
              value: 60,
            },
            {
              color: 'green',
              value: 300,
            },
          ],
        },
      },
    },
  },
  d.panel('stat',
          6,
          'Exporter version',
          d.grid(20, 0, 4, 4),
          'none',
          'Version of each exporter (genesys_eventbridge_exporter_build_info).',
          [
            d.q('genesys_eventbridge_exporter_build_info{job=~"$exporter_job", instance=~"$exporter_instance"}', '{{version}}'),
          ]) + {
    options: {
      reduceOptions: {
        calcs: [
          'lastNotNull',
        ],
        fields: '',
        values: false,
      },
      orientation: 'auto',
      textMode: 'name',
      colorMode: 'none',
      graphMode: 'none',
      justifyMode: 'auto',
      wideLayout: true,
    },
  },
  d.panel('stat',
          7,
          'Consumer group status',
          d.grid(0, 4, 24, 4),
          'none',
          'Per consumer group: OK, Over threshold (genesys_eventbridge_consumer_threshold_exceeded = 1) or Missing (genesys_eventbridge_consumer_group_missing = 1), the worst state across exporters.',
          [
            d.q('max by (consumer_group) (2 * genesys_eventbridge_consumer_group_missing{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"} + genesys_eventbridge_consumer_threshold_exceeded{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"})', '{{consumer_group}}'),
          ]) + {
    options: {
      reduceOptions: {
        calcs: [
          'lastNotNull',
        ],
        fields: '',
        values: false,
      },
      orientation: 'auto',
      textMode: 'value_and_name',
      colorMode: 'background',
      graphMode: 'none',
      justifyMode: 'auto',
      wideLayout: true,
    },
    fieldConfig+: {
      defaults+: {
        mappings: [
          {
            type: 'value',
            options: {
              '0': {
                text: 'OK',
                color: 'green',
                index: 0,
              },
              '1': {
                text: 'Over threshold',
                color: 'orange',
                index: 1,
              },
              '2': {
                text: 'Missing',
                color: 'red',
                index: 2,
              },
              '3': {
                text: 'Missing',
                color: 'red',
                index: 3,
              },
            },
          },
        ],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
            {
              color: 'orange',
              value: 1,
            },
            {
              color: 'red',
              value: 2,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          8,
          'Consumer lag vs threshold',
          d.grid(0, 8, 12, 8),
          's',
          'Lag of each consumer group, the worst processing latency over its event types (genesys_eventbridge_consumer_lag_seconds), with its threshold dashed (genesys_eventbridge_consumer_lag_threshold_seconds). Above the threshold for 5 minutes, GenesysEventBridgeConsumerLagHigh fires and the rebalance receiver is notified.',
          [
            d.q('genesys_eventbridge_consumer_lag_seconds{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}', '{{consumer_group}} ({{instance}})'),
            d.q('genesys_eventbridge_consumer_lag_threshold_seconds{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}', '{{consumer_group}} threshold ({{instance}})'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
      overrides: [
        {
          matcher: {
            id: 'byFrameRefID',
            options: 'B',
          },
          properties: [
            {
              id: 'custom.lineStyle',
              value: {
                fill: 'dash',
                dash: [
                  10,
                  10,
                ],
              },
            },
            {
              id: 'custom.fillOpacity',
              value: 0,
            },
            {
              id: 'custom.lineWidth',
              value: 2,
            },
          ],
        },
      ],
    },
  },
  d.panel('timeseries',
          9,
          'Mean processing latency vs threshold',
          d.grid(12, 8, 12, 8),
          's',
          'Event-weighted mean processing latency of each consumer group (genesys_eventbridge_consumer_processing_latency_seconds), with its threshold dashed (genesys_eventbridge_consumer_processing_latency_threshold_seconds).',
          [
            d.q('genesys_eventbridge_consumer_processing_latency_seconds{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}', '{{consumer_group}} ({{instance}})'),
            d.q('genesys_eventbridge_consumer_processing_latency_threshold_seconds{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}', '{{consumer_group}} threshold ({{instance}})'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
      overrides: [
        {
          matcher: {
            id: 'byFrameRefID',
            options: 'B',
          },
          properties: [
            {
              id: 'custom.lineStyle',
              value: {
                fill: 'dash',
                dash: [
                  10,
                  10,
                ],
              },
            },
            {
              id: 'custom.fillOpacity',
              value: 0,
            },
            {
              id: 'custom.lineWidth',
              value: 2,
            },
          ],
        },
      ],
    },
  },
  d.panel('timeseries',
          10,
          'Throughput',
          d.grid(0, 16, 12, 8),
          'eps',
          'Events processed per second by each consumer group, averaged over the query window (genesys_eventbridge_consumer_throughput_events_per_second). Zero for a present group means it is stalled; a missing group also reports zero.',
          [
            d.q('genesys_eventbridge_consumer_throughput_events_per_second{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}', '{{consumer_group}} ({{instance}})'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          11,
          'Estimated backlog',
          d.grid(12, 16, 12, 8),
          'short',
          "Estimated events in flight per consumer group: throughput x mean processing latency (Little's law, genesys_eventbridge_consumer_backlog_events). An estimate, not a count read from the broker.",
          [
            d.q('genesys_eventbridge_consumer_backlog_events{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}', '{{consumer_group}} ({{instance}})'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          12,
          'Processing latency by event type',
          d.grid(0, 24, 12, 8),
          's',
          'Processing latency of each consumer group and event type as reported by Genesys Cloud analytics (genesys_eventbridge_event_processing_latency_seconds). The largest per group is its lag.',
          [
            d.q('genesys_eventbridge_event_processing_latency_seconds{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}', '{{consumer_group}} / {{event_type}} ({{instance}})'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          13,
          'Events in window by event type',
          d.grid(12, 24, 12, 8),
          'short',
          'Events of each consumer group and event type in the query window (genesys_eventbridge_events, --query.window, 1h by default).',
          [
            d.q('genesys_eventbridge_events{job=~"$job", instance=~"$instance", consumer_group=~"$consumer_group"}', '{{consumer_group}} / {{event_type}} ({{instance}})'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          14,
          'Query duration',
          d.grid(0, 32, 8, 8),
          's',
          "Duration of each exporter's latest analytics query, all pages and retries included (genesys_eventbridge_query_duration_seconds).",
          [
            d.q('genesys_eventbridge_query_duration_seconds{job=~"$job", instance=~"$instance"}', '{{instance}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          15,
          'Query pages',
          d.grid(8, 32, 8, 8),
          'short',
          "Pages fetched by each exporter's latest analytics query (genesys_eventbridge_query_pages); the query fails when --query.max-pages is reached.",
          [
            d.q('genesys_eventbridge_query_pages{job=~"$job", instance=~"$instance"}', '{{instance}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
        decimals: 0,
      },
    },
  },
  d.panel('timeseries',
          16,
          'Queries and failures',
          d.grid(16, 32, 8, 8),
          'ops',
          'Analytics queries started per second (genesys_eventbridge_queries_total) and failed queries per second by reason (genesys_eventbridge_query_failures_total). Scrapes answered from the cache or during a rate-limit cooldown start no query.',
          [
            d.q('sum by (instance) (rate(genesys_eventbridge_queries_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))', '{{instance}} queries'),
            d.q('sum by (instance, reason) (rate(genesys_eventbridge_query_failures_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))', '{{instance}} failed: {{reason}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          17,
          'API requests by endpoint and code',
          d.grid(0, 40, 8, 8),
          'reqps',
          'Requests to the Genesys Cloud API per second, by endpoint (token, query) and HTTP status code (genesys_eventbridge_api_requests_total).',
          [
            d.q('sum by (endpoint, code) (rate(genesys_eventbridge_api_requests_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))', '{{endpoint}} {{code}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          18,
          'Rate-limit cooldown',
          d.grid(8, 40, 8, 8),
          's',
          'Seconds until each exporter calls the API again after a 429 answer (genesys_eventbridge_rate_limit_cooldown_seconds); 0 when not rate limited.',
          [
            d.q('genesys_eventbridge_rate_limit_cooldown_seconds{job=~"$job", instance=~"$instance"}', '{{instance}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          19,
          'Rate-limit headroom',
          d.grid(16, 40, 8, 8),
          'short',
          'Requests left in the current Genesys Cloud rate-limit period: inin-ratelimit-allowed minus inin-ratelimit-count of the latest response that carried them (genesys_eventbridge_api_rate_limit_allowed - genesys_eventbridge_api_rate_limit_count).',
          [
            d.q('genesys_eventbridge_api_rate_limit_allowed{job=~"$job", instance=~"$instance"} - genesys_eventbridge_api_rate_limit_count{job=~"$job", instance=~"$instance"}', '{{instance}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'red',
              value: null,
            },
            {
              color: 'orange',
              value: 10,
            },
            {
              color: 'green',
              value: 50,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          20,
          'Token expires in',
          d.grid(0, 48, 8, 8),
          's',
          "Time until each exporter's OAuth access token expires (genesys_eventbridge_token_expiry_timestamp_seconds - time()). It drops steadily and jumps back up when the token is refreshed.",
          [
            d.q('genesys_eventbridge_token_expiry_timestamp_seconds{job=~"$job", instance=~"$instance"} - time()', '{{instance}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          21,
          'Data age',
          d.grid(8, 48, 8, 8),
          's',
          'Age of the data each exporter serves (genesys_eventbridge_data_age_seconds). The red line is where GenesysEventBridgeDataStale starts counting (10 minutes).',
          [
            d.q('genesys_eventbridge_data_age_seconds{job=~"$job", instance=~"$instance"}', '{{instance}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        custom: {
          drawStyle: 'line',
          lineInterpolation: 'linear',
          lineWidth: 1,
          fillOpacity: 10,
          gradientMode: 'none',
          showPoints: 'never',
          pointSize: 5,
          spanNulls: false,
          stacking: {
            group: 'A',
            mode: 'none',
          },
          axisPlacement: 'auto',
          axisLabel: '',
          axisCenteredZero: false,
          axisSoftMin: 0,
          thresholdsStyle: {
            mode: 'line',
          },
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
            {
              color: 'red',
              value: 600,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          22,
          'Invalid rows skipped',
          d.grid(16, 48, 8, 8),
          'cps',
          'Analytics rows skipped per second because a field was missing or had the wrong type, by reason (genesys_eventbridge_invalid_rows_total). The other rows of the page still count.',
          [
            d.q('sum by (instance, reason) (rate(genesys_eventbridge_invalid_rows_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))', '{{instance}} {{reason}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          23,
          'Exporter memory',
          d.grid(0, 56, 8, 8),
          'bytes',
          "Resident memory of each exporter process (process_resident_memory_bytes). It stays flat in normal use; a steady climb is a leak worth reporting. Selected by the Exporter job and Exporter variables, which list only the targets that serve the exporter's own series (its /metrics).",
          [
            d.q('process_resident_memory_bytes{job=~"$exporter_job", instance=~"$exporter_instance"}', '{{instance}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          24,
          'Exporter CPU',
          d.grid(8, 56, 8, 8),
          'percentunit',
          "CPU used by each exporter process, in cores (rate of process_cpu_seconds_total). Scrapes served from the cache cost little; each query of the API costs more. Selected by the Exporter job and Exporter variables, which list only the targets that serve the exporter's own series (its /metrics).",
          [
            d.q('rate(process_cpu_seconds_total{job=~"$exporter_job", instance=~"$exporter_instance"}[$__rate_interval])', '{{instance}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          25,
          'Exporter file descriptors',
          d.grid(16, 56, 8, 8),
          'short',
          "Open file descriptors of each exporter process against its limit (process_open_fds, process_max_fds). Each scrape connection holds one; at most 256 are served at once. Selected by the Exporter job and Exporter variables, which list only the targets that serve the exporter's own series (its /metrics).",
          [
            d.q('process_open_fds{job=~"$exporter_job", instance=~"$exporter_instance"}', '{{instance}} open'),
            d.q('process_max_fds{job=~"$exporter_job", instance=~"$exporter_instance"}', '{{instance}} limit'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('stat',
          26,
          'EventBridge integrations',
          d.grid(0, 64, 8, 4),
          'none',
          "State each Amazon EventBridge integration reports to Genesys Cloud (GET /api/v2/integrations): ACTIVE, ACTIVATING, INACTIVE, DEACTIVATING, ERROR, or unknown for a code the exporter does not know. The detail message of a state is on the exporter's landing page, in /probe?target=NAME&debug=true and in the INTEGRATION_STATE_CHANGED log line.",
          [
            d.q('1 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="ACTIVE"}) + 2 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="ACTIVATING"}) + 3 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="INACTIVE"}) + 4 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="DEACTIVATING"}) + 5 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="ERROR"})', '{{instance}} {{name}}'),
          ]) + {
    options: {
      reduceOptions: {
        calcs: [
          'lastNotNull',
        ],
        fields: '',
        values: false,
      },
      orientation: 'auto',
      textMode: 'value_and_name',
      colorMode: 'background',
      graphMode: 'none',
      justifyMode: 'auto',
      wideLayout: true,
    },
    fieldConfig+: {
      defaults+: {
        mappings: [
          {
            type: 'value',
            options: {
              '0': {
                text: 'unknown',
                color: 'purple',
                index: 0,
              },
              '1': {
                text: 'ACTIVE',
                color: 'green',
                index: 1,
              },
              '2': {
                text: 'ACTIVATING',
                color: 'blue',
                index: 2,
              },
              '3': {
                text: 'INACTIVE',
                color: 'text',
                index: 3,
              },
              '4': {
                text: 'DEACTIVATING',
                color: 'yellow',
                index: 4,
              },
              '5': {
                text: 'ERROR',
                color: 'red',
                index: 5,
              },
            },
          },
        ],
      },
    },
  },
  d.panel('state-timeline',
          27,
          'EventBridge integration state over time',
          d.grid(8, 64, 16, 8),
          'none',
          'The reported state of each EventBridge integration over time, one row per organisation (instance) and integration; gaps are times the listing failed or was not sent (genesys_eventbridge_integrations_up 0, or --no-collector.integrations).',
          [
            d.q('1 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="ACTIVE"}) + 2 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="ACTIVATING"}) + 3 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="INACTIVE"}) + 4 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="DEACTIVATING"}) + 5 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="ERROR"})', '{{instance}} {{name}}'),
          ]),
  d.panel('timeseries',
          28,
          'Integrations listing',
          d.grid(0, 68, 8, 4),
          'bool_yes_no',
          '1 when the latest listing of the EventBridge integrations succeeded (genesys_eventbridge_integrations_up). 0 after a failure, and after a 403 until the hourly retry succeeds: the OAuth client then lacks integrations:integration:view.',
          [
            d.q('genesys_eventbridge_integrations_up{job=~"$job", instance=~"$instance"}', '{{instance}}'),
          ]) + {
    options: {
      legend: {
        showLegend: true,
        displayMode: 'list',
        placement: 'bottom',
      },
      tooltip: {
        mode: 'multi',
        sort: 'none',
      },
    },
    fieldConfig+: {
      defaults+: {
        min: 0,
        max: 1,
        custom: {
          drawStyle: 'line',
          lineInterpolation: 'stepAfter',
        },
      },
    },
  },
  d.row(29, 'Delivery path on AWS', 72),
  d.panel('stat',
          30,
          'AWS collector',
          d.grid(0, 73, 4, 4),
          'none',
          'genesys_eventbridge_aws_up per organisation: OK when every call of the latest AWS cycle (EventBridge, CloudWatch, STS) succeeded. A failing collector keeps serving its last good figures until they are older than --cache.max-stale. Empty when the aws collector is off (--collector.aws, or an aws: block for an organisation of the file).',
          [
            d.q('genesys_eventbridge_aws_up{job=~"$job", instance=~"$instance"}', '{{instance}}'),
          ]) + {
    options: {
      reduceOptions: {
        calcs: [
          'lastNotNull',
        ],
        fields: '',
        values: false,
      },
      orientation: 'auto',
      textMode: 'auto',
      colorMode: 'background',
      graphMode: 'none',
      justifyMode: 'auto',
      wideLayout: true,
    },
    fieldConfig+: {
      defaults+: {
        mappings: [
          {
            type: 'value',
            options: {
              '0': {
                text: 'Failing',
                color: 'red',
                index: 0,
              },
              '1': {
                text: 'OK',
                color: 'green',
                index: 1,
              },
            },
          },
        ],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'red',
              value: null,
            },
            {
              color: 'green',
              value: 1,
            },
          ],
        },
      },
    },
  },
  d.panel('stat',
          31,
          'Partner event sources',
          d.grid(4, 73, 12, 4),
          'none',
          'State AWS reports for each partner event source (DescribeEventSource), with the EventBridge integration that feeds it: ACTIVE; PENDING, no event bus associated, events are not delivered; DELETED; not_found, no such source in that account and region; unknown. A source named in aws.event_sources has no integration. GenesysEventBridgeEventSourceNotActive fires for a source not ACTIVE while its integration is enabled.',
          [
            d.q('label_replace((((1 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="ACTIVE"}) + 2 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="PENDING"}) + 3 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="DELETED"}) + 4 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="not_found"})) * on (job, instance, event_source) group_left (integration_id) genesys_eventbridge_event_source_info{job=~"$job", instance=~"$instance"}) * on (job, instance, integration_id) group_left (name) genesys_eventbridge_integration_enabled{job=~"$job", instance=~"$instance"}) or on (job, instance, event_source) ((1 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="ACTIVE"}) + 2 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="PENDING"}) + 3 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="DELETED"}) + 4 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="not_found"})) * on (job, instance, event_source) group_left (integration_id) genesys_eventbridge_event_source_info{job=~"$job", instance=~"$instance"}), "source", "$1", "event_source", ".*/([^/]+)")', '{{instance}} {{source}} {{name}}'),
          ]) + {
    options: {
      reduceOptions: {
        calcs: [
          'lastNotNull',
        ],
        fields: '',
        values: false,
      },
      orientation: 'auto',
      textMode: 'value_and_name',
      colorMode: 'background',
      graphMode: 'none',
      justifyMode: 'auto',
      wideLayout: true,
    },
    fieldConfig+: {
      defaults+: {
        mappings: [
          {
            type: 'value',
            options: {
              '0': {
                text: 'unknown',
                color: 'purple',
                index: 0,
              },
              '1': {
                text: 'ACTIVE',
                color: 'green',
                index: 1,
              },
              '2': {
                text: 'PENDING',
                color: 'red',
                index: 2,
              },
              '3': {
                text: 'DELETED',
                color: 'red',
                index: 3,
              },
              '4': {
                text: 'not_found',
                color: 'red',
                index: 4,
              },
            },
          },
        ],
      },
    },
  },
  d.panel('stat',
          32,
          'Watched rules missing',
          d.grid(16, 73, 4, 4),
          'none',
          'Rules named in aws.rules that are not on their event bus (genesys_eventbridge_rule_missing), over the selected organisations: the events they should route reach no consumer. 0 when every watched rule is there, or when no rule is watched by name.',
          [
            d.q('sum(genesys_eventbridge_rule_missing{job=~"$job", instance=~"$instance"}) or vector(0)', ''),
          ]) + {
    fieldConfig+: {
      defaults+: {
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
            {
              color: 'orange',
              value: 1,
            },
          ],
        },
      },
    },
  },
  d.panel('stat',
          33,
          'Age of the AWS figures',
          d.grid(20, 73, 4, 4),
          's',
          'Time since the end of the period the delivery-path figures describe (genesys_eventbridge_aws_period_end_timestamp_seconds): at least --aws.delay (2m), and up to delay + period + --aws.cache.ttl (12 minutes with the defaults) while the collector works.',
          [
            d.q('time() - genesys_eventbridge_aws_period_end_timestamp_seconds{job=~"$job", instance=~"$instance"}', '{{instance}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
            {
              color: 'orange',
              value: 900,
            },
            {
              color: 'red',
              value: 1500,
            },
          ],
        },
      },
    },
  },
  d.panel('state-timeline',
          34,
          'Partner event source and integration state over time',
          d.grid(0, 77, 12, 8),
          'none',
          "Each partner event source's state in AWS (one row per organisation and source) and, below, the state Genesys Cloud reports for the integration that feeds it. A PENDING source with an integration in ERROR is the usual picture of a bus never created or deleted. Gaps are times the figures were not exported (collector off or failing for longer than --cache.max-stale).",
          [
            d.q('label_replace((1 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="ACTIVE"}) + 2 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="PENDING"}) + 3 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="DELETED"}) + 4 * sum without (state) (genesys_eventbridge_event_source_state{job=~"$job", instance=~"$instance", state="not_found"})) * on (job, instance, event_source) group_left (integration_id) genesys_eventbridge_event_source_info{job=~"$job", instance=~"$instance"}, "source", "$1", "event_source", ".*/([^/]+)")', '{{instance}} {{source}} source'),
            d.q('label_replace(genesys_eventbridge_event_source_info{job=~"$job", instance=~"$instance"} * on (job, instance, integration_id) group_left (name) ((1 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="ACTIVE"}) + 2 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="ACTIVATING"}) + 3 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="INACTIVE"}) + 4 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="DEACTIVATING"}) + 5 * sum without (state) (genesys_eventbridge_integration_state{job=~"$job", instance=~"$instance", state="ERROR"})) + 10), "source", "$1", "event_source", ".*/([^/]+)")', '{{instance}} {{source}} integration {{name}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        mappings: [
          {
            type: 'value',
            options: {
              '0': {
                text: 'unknown',
                color: 'purple',
                index: 0,
              },
              '1': {
                text: 'ACTIVE',
                color: 'green',
                index: 1,
              },
              '2': {
                text: 'PENDING',
                color: 'red',
                index: 2,
              },
              '3': {
                text: 'DELETED',
                color: 'red',
                index: 3,
              },
              '4': {
                text: 'not_found',
                color: 'red',
                index: 4,
              },
              '10': {
                text: 'integration unknown',
                color: 'purple',
                index: 10,
              },
              '11': {
                text: 'integration ACTIVE',
                color: 'green',
                index: 11,
              },
              '12': {
                text: 'integration ACTIVATING',
                color: 'blue',
                index: 12,
              },
              '13': {
                text: 'integration INACTIVE',
                color: 'text',
                index: 13,
              },
              '14': {
                text: 'integration DEACTIVATING',
                color: 'yellow',
                index: 14,
              },
              '15': {
                text: 'integration ERROR',
                color: 'red',
                index: 15,
              },
            },
          },
        ],
      },
    },
  },
  d.panel('timeseries',
          35,
          'Events ingested per period',
          d.grid(12, 77, 12, 8),
          'short',
          'Partner events EventBridge ingested from each source in each --aws.period (5m by default; CloudWatch Events, dimension EventSourceName; 0 when CloudWatch has no datapoint). A step per period; nothing for an hour on an ACTIVE source whose integration is ACTIVE fires GenesysEventBridgeNoEventsIngested.',
          [
            d.q('label_replace(genesys_eventbridge_event_source_events{job=~"$job", instance=~"$instance"}, "source", "$1", "event_source", ".*/([^/]+)")', '{{instance}} {{source}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        custom: {
          drawStyle: 'line',
          lineInterpolation: 'stepAfter',
          lineWidth: 1,
          fillOpacity: 10,
          gradientMode: 'none',
          showPoints: 'never',
          pointSize: 5,
          spanNulls: false,
          stacking: {
            group: 'A',
            mode: 'none',
          },
          axisPlacement: 'auto',
          axisLabel: '',
          axisCenteredZero: false,
          axisSoftMin: 0,
          thresholdsStyle: {
            mode: 'off',
          },
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('timeseries',
          36,
          'Rule invocations vs failures, retries and dead letters',
          d.grid(0, 85, 12, 8),
          'short',
          'Per rule and --aws.period: invocations (left axis) against permanent failures, retry attempts, events sent to a dead-letter queue, events that could not be sent there, and throttled rule runs (right axis; CloudWatch AWS/Events, 0 without a datapoint). Failures on a rule with a target without a dead-letter queue, or any dead-letter failure, are lost events (GenesysEventBridgeRuleDeliveryFailing).',
          [
            d.q('genesys_eventbridge_rule_invocations{job=~"$job", instance=~"$instance"}', '{{rule}} invocations ({{instance}})'),
            d.q('genesys_eventbridge_rule_failed_invocations{job=~"$job", instance=~"$instance"}', '{{rule}} failed ({{instance}})'),
            d.q('genesys_eventbridge_rule_retry_invocation_attempts{job=~"$job", instance=~"$instance"}', '{{rule}} retries ({{instance}})'),
            d.q('genesys_eventbridge_rule_dead_letter_invocations{job=~"$job", instance=~"$instance"}', '{{rule}} to DLQ ({{instance}})'),
            d.q('genesys_eventbridge_rule_dead_letter_failures{job=~"$job", instance=~"$instance"}', '{{rule}} DLQ failed ({{instance}})'),
            d.q('genesys_eventbridge_rule_throttled{job=~"$job", instance=~"$instance"}', '{{rule}} throttled ({{instance}})'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        custom: {
          drawStyle: 'line',
          lineInterpolation: 'stepAfter',
          lineWidth: 1,
          fillOpacity: 10,
          gradientMode: 'none',
          showPoints: 'never',
          pointSize: 5,
          spanNulls: false,
          stacking: {
            group: 'A',
            mode: 'none',
          },
          axisPlacement: 'auto',
          axisLabel: '',
          axisCenteredZero: false,
          axisSoftMin: 0,
          thresholdsStyle: {
            mode: 'off',
          },
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
      overrides: [
        {
          matcher: {
            id: 'byFrameRefID',
            options: 'B',
          },
          properties: [
            {
              id: 'custom.axisPlacement',
              value: 'right',
            },
            {
              id: 'custom.axisLabel',
              value: 'failed, retried, dead-lettered, throttled',
            },
          ],
        },
        {
          matcher: {
            id: 'byFrameRefID',
            options: 'C',
          },
          properties: [
            {
              id: 'custom.axisPlacement',
              value: 'right',
            },
            {
              id: 'custom.axisLabel',
              value: 'failed, retried, dead-lettered, throttled',
            },
          ],
        },
        {
          matcher: {
            id: 'byFrameRefID',
            options: 'D',
          },
          properties: [
            {
              id: 'custom.axisPlacement',
              value: 'right',
            },
            {
              id: 'custom.axisLabel',
              value: 'failed, retried, dead-lettered, throttled',
            },
          ],
        },
        {
          matcher: {
            id: 'byFrameRefID',
            options: 'E',
          },
          properties: [
            {
              id: 'custom.axisPlacement',
              value: 'right',
            },
            {
              id: 'custom.axisLabel',
              value: 'failed, retried, dead-lettered, throttled',
            },
          ],
        },
        {
          matcher: {
            id: 'byFrameRefID',
            options: 'F',
          },
          properties: [
            {
              id: 'custom.axisPlacement',
              value: 'right',
            },
            {
              id: 'custom.axisLabel',
              value: 'failed, retried, dead-lettered, throttled',
            },
          ],
        },
      ],
    },
  },
  d.panel('timeseries',
          37,
          'Rule delivery lag vs threshold',
          d.grid(12, 85, 12, 8),
          's',
          "The slowest delivery of each rule in each period, from ingestion to its target accepting the event (genesys_eventbridge_rule_delivery_lag_seconds, IngestionToInvocationSuccessLatency Maximum), with its threshold dashed (max_delivery_lag of aws.rules, else the organisation's max_lag). Above it two periods in a row, GenesysEventBridgeRuleDeliveryLagHigh fires and the rebalance receiver is notified. No line for a period without deliveries.",
          [
            d.q('genesys_eventbridge_rule_delivery_lag_seconds{job=~"$job", instance=~"$instance"}', '{{rule}} ({{instance}})'),
            d.q('genesys_eventbridge_rule_delivery_lag_threshold_seconds{job=~"$job", instance=~"$instance"}', '{{rule}} threshold ({{instance}})'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        custom: {
          drawStyle: 'line',
          lineInterpolation: 'stepAfter',
          lineWidth: 1,
          fillOpacity: 10,
          gradientMode: 'none',
          showPoints: 'never',
          pointSize: 5,
          spanNulls: false,
          stacking: {
            group: 'A',
            mode: 'none',
          },
          axisPlacement: 'auto',
          axisLabel: '',
          axisCenteredZero: false,
          axisSoftMin: 0,
          thresholdsStyle: {
            mode: 'off',
          },
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
      overrides: [
        {
          matcher: {
            id: 'byFrameRefID',
            options: 'B',
          },
          properties: [
            {
              id: 'custom.lineStyle',
              value: {
                fill: 'dash',
                dash: [
                  10,
                  10,
                ],
              },
            },
            {
              id: 'custom.fillOpacity',
              value: 0,
            },
            {
              id: 'custom.lineWidth',
              value: 2,
            },
          ],
        },
      ],
    },
  },
  d.panel('timeseries',
          38,
          'Rule delivery latency (average)',
          d.grid(0, 93, 8, 8),
          's',
          "Mean time from ingestion to successful delivery of each rule's events in each period (genesys_eventbridge_rule_delivery_latency_seconds, IngestionToInvocationSuccessLatency Average). No line for a period without deliveries.",
          [
            d.q('genesys_eventbridge_rule_delivery_latency_seconds{job=~"$job", instance=~"$instance"}', '{{rule}} ({{instance}})'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        custom: {
          drawStyle: 'line',
          lineInterpolation: 'stepAfter',
          lineWidth: 1,
          fillOpacity: 10,
          gradientMode: 'none',
          showPoints: 'never',
          pointSize: 5,
          spanNulls: false,
          stacking: {
            group: 'A',
            mode: 'none',
          },
          axisPlacement: 'auto',
          axisLabel: '',
          axisCenteredZero: false,
          axisSoftMin: 0,
          thresholdsStyle: {
            mode: 'off',
          },
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
  },
  d.panel('table',
          39,
          'Rules and their targets',
          d.grid(8, 93, 8, 8),
          'none',
          'Each rule of the partner event buses: enabled or not, its targets, and how many of them have no dead-letter queue, where an event that fails delivery is lost rather than kept (genesys_eventbridge_rule_targets_without_dead_letter_queue).',
          [
            d.table('label_replace(genesys_eventbridge_rule_enabled{job=~"$job", instance=~"$instance"}, "bus", "$1", "event_bus", ".*/([^/]+)")', ''),
            d.table('label_replace(genesys_eventbridge_rule_targets{job=~"$job", instance=~"$instance"}, "bus", "$1", "event_bus", ".*/([^/]+)")', ''),
            d.table('label_replace(genesys_eventbridge_rule_targets_without_dead_letter_queue{job=~"$job", instance=~"$instance"}, "bus", "$1", "event_bus", ".*/([^/]+)")', ''),
          ]) + {
    fieldConfig+: {
      overrides: [
        {
          matcher: {
            id: 'byName',
            options: 'Enabled',
          },
          properties: [
            {
              id: 'mappings',
              value: [
                {
                  type: 'value',
                  options: {
                    '0': {
                      text: 'DISABLED',
                      color: 'text',
                      index: 0,
                    },
                    '1': {
                      text: 'ENABLED',
                      color: 'green',
                      index: 1,
                    },
                  },
                },
              ],
            },
            {
              id: 'custom.cellOptions',
              value: {
                type: 'color-text',
              },
            },
          ],
        },
        {
          matcher: {
            id: 'byName',
            options: 'Targets without a dead-letter queue',
          },
          properties: [
            {
              id: 'thresholds',
              value: {
                mode: 'absolute',
                steps: [
                  {
                    color: 'green',
                    value: null,
                  },
                  {
                    color: 'orange',
                    value: 1,
                  },
                ],
              },
            },
            {
              id: 'custom.cellOptions',
              value: {
                type: 'color-text',
              },
            },
          ],
        },
      ],
    },
    transformations: [
      {
        id: 'merge',
        options: {},
      },
      {
        id: 'organize',
        options: {
          excludeByName: {
            Time: true,
            job: true,
            event_bus: true,
          },
          indexByName: {
            instance: 0,
            bus: 1,
            rule: 2,
            'Value #A': 3,
            'Value #B': 4,
            'Value #C': 5,
          },
          renameByName: {
            instance: 'Organisation',
            bus: 'Bus',
            rule: 'Rule',
            'Value #A': 'Enabled',
            'Value #B': 'Targets',
            'Value #C': 'Targets without a dead-letter queue',
          },
        },
      },
    ],
  },
  d.panel('timeseries',
          40,
          'AWS requests by service, operation and code',
          d.grid(16, 93, 8, 8),
          'reqps',
          "Requests of the aws collector per second (genesys_eventbridge_aws_requests_total): EventBridge DescribeEventSource, ListRules, ListTargetsByRule; CloudWatch GetMetricData; STS for a role to assume. code is the HTTP status, or error without one. A cycle runs at most once per --aws.cache.ttl, hence the panel's 5-minute minimum interval.",
          [
            d.q('rate(genesys_eventbridge_aws_requests_total{job=~"$job", instance=~"$instance"}[$__rate_interval])', '{{instance}} {{service}} {{operation}} {{code}}'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
    interval: '5m',
  },
  d.panel('timeseries',
          41,
          'CloudWatch metrics requested',
          d.grid(0, 101, 16, 8),
          'short',
          "Metrics requested from CloudWatch GetMetricData per hour (genesys_eventbridge_aws_cloudwatch_metrics_requested_total): what CloudWatch bills. One per source and eight per rule (six counts, and the latency's Average and Maximum) at every AWS cycle.",
          [
            d.q('3600 * rate(genesys_eventbridge_aws_cloudwatch_metrics_requested_total{job=~"$job", instance=~"$instance"}[$__rate_interval])', '{{instance}} metrics per hour'),
          ]) + {
    fieldConfig+: {
      defaults+: {
        color: {
          mode: 'palette-classic',
        },
        mappings: [],
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
      },
    },
    interval: '5m',
  },
  d.panel('stat',
          42,
          'Estimated CloudWatch cost per 30 days',
          d.grid(16, 101, 8, 8),
          'currencyUSD',
          "GetMetricData cost at the current rate of metrics requested, over 30 days, at the list price of USD 0.01 per 1,000 metrics (check your region's price and your free tier). Each exporter target pays for its own requests: two exporters watching the same organisation pay twice.",
          [
            d.q('2592000 * 0.00001 * rate(genesys_eventbridge_aws_cloudwatch_metrics_requested_total{job=~"$job", instance=~"$instance"}[$__rate_interval])', '{{instance}}'),
          ]) + {
    options: {
      reduceOptions: {
        calcs: [
          'lastNotNull',
        ],
        fields: '',
        values: false,
      },
      orientation: 'auto',
      textMode: 'value_and_name',
      colorMode: 'value',
      graphMode: 'none',
      justifyMode: 'auto',
      wideLayout: true,
    },
    fieldConfig+: {
      defaults+: {
        decimals: 2,
      },
    },
    interval: '5m',
  },
  // The lag SLO: shown once its rules are loaded (the mixin with
  // slo.enabled, or alerts/genesys-eventbridge-slo.rules.yml).
  d.row(44, 'Lag SLO (needs the SLO rules)', 109, collapsed=true, panels=[
    d.panel('stat',
            45,
            'Error budget left (30 days)',
            d.grid(0, 110, 6, 8),
            'percentunit',
            'Share of the 30-day error budget of the lag SLO left (slo:period_error_budget_remaining:ratio): the budget is the minutes with a lag above its threshold that the objective allows. Minutes without data count neither way. Empty until the SLO rules are loaded and have an hour of history.',
            [d.q('slo:period_error_budget_remaining:ratio{job=~"$job", instance=~"$instance"}', '{{instance}}')]) + {
      options+: { colorMode: 'background' },
      fieldConfig+: {
        defaults+: {
          thresholds: { mode: 'absolute', steps: [{ color: 'red', value: null }, { color: 'orange', value: 0.25 }, { color: 'green', value: 0.5 }] },
        },
      },
    },
    d.panel('timeseries',
            46,
            'Burn rate by window',
            d.grid(6, 110, 18, 8),
            'none',
            'How fast the lag SLO spends its error budget: the error ratio of each window divided by the budget (1 spends exactly the budget in 30 days). The page fires at 14.4 over 1h and 5m or 6 over 6h and 30m; the ticket at 3 over 1d and 2h or 1 over 3d and 6h.',
            [
              d.q('slo:sli_error:ratio_rate%s{job=~"$job", instance=~"$instance"} / %s' % [window, '%g' % (1 - c.slo.objective)], '{{instance}} %s' % window)
              for window in ['5m', '1h', '6h', '1d', '3d']
            ]),
  ]),
];

// A multi-value query variable over label_values, refreshed with the time
// range, whose "All" matches any value.
local variable(name, label, query) = {
  type: 'query',
  name: name,
  label: label,
  datasource: d.datasource,
  definition: query,
  query: query,
  refresh: 2,
  multi: true,
  includeAll: true,
  allValue: '.+',
  current: {},
  options: [],
  regex: '',
  sort: 1,
  hide: 0,
  skipUrlSync: false,
};

// The organisations' series carry one of these: a target of the
// organisations' job is one organisation (on /metrics or /probe).
local orgSeries = '{__name__=~"genesys_eventbridge_(up|integrations_up|aws_up)"';

local variables = [
  {
    type: 'datasource',
    name: 'datasource',
    label: 'Data source',
    query: 'prometheus',
    // Replaced by the data source chosen on import (__inputs).
    current: { text: '${DS_PROMETHEUS}', value: '${DS_PROMETHEUS}' },
    options: [],
    regex: '',
    refresh: 1,
    hide: 0,
    includeAll: false,
    multi: false,
    skipUrlSync: false,
  },
  // The exporter's own job: the targets that serve its /metrics, with the
  // build info and the process figures. In the /probe layout it is another
  // job than the organisations', and has no genesys_eventbridge_up.
  variable('exporter_job', 'Exporter job', 'label_values(genesys_eventbridge_exporter_build_info, job)'),
  variable('exporter_instance', 'Exporter', 'label_values(genesys_eventbridge_exporter_build_info{job=~"$exporter_job"}, instance)'),
  // The organisations' job and its targets.
  variable('job', 'Organisations job', 'label_values(%s}, job)' % orgSeries),
  variable('instance', 'Organisation', 'label_values(%s, job=~"$job"}, instance)' % orgSeries),
  variable('consumer_group', 'Consumer group', 'label_values(genesys_eventbridge_consumer_lag_seconds{job=~"$job", instance=~"$instance"}, consumer_group)'),
];

{
  grafanaDashboards+:: {
    'genesys-eventbridge.json': {
      annotations: {
        list: [],
      },
      description: 'Consumer lag, processing latency, throughput and missing consumer groups of Genesys Cloud EventBridge consumers, the delivery path on AWS (partner event sources, rules, their failures and lag), and the health of genesys-eventbridge-exporter.',
      editable: true,
      fiscalYearStartMonth: 0,
      graphTooltip: 1,
      id: null,
      links: [],
      liveNow: false,
      refresh: '1m',
      schemaVersion: 39,
      tags: [
        'genesys',
        'eventbridge',
        'prometheus',
      ],
      time: {
        from: 'now-6h',
        to: 'now',
      },
      timepicker: {},
      timezone: '',
      title: 'Genesys Cloud EventBridge consumers',
      uid: 'genesys-eventbridge',
      version: 1,
      weekStart: '',
    } + {
      local allPanels = panels($._config),
      // The import dialog offers the choice of a Prometheus data source.
      __inputs: [{
        name: 'DS_PROMETHEUS',
        label: 'Prometheus',
        description: 'The Prometheus that scrapes genesys-eventbridge-exporter',
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
      }],
      // Grafana, the data source and every panel type the dashboard uses.
      __requires: [
        { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
        { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      ] + [
        { type: 'panel', id: type, name: d.panelNames[type], version: '' }
        for type in std.set([p.type for p in allPanels if p.type != 'row'])
      ],
      templating: { list: variables },
      panels: allPanels,
    },
  },
}
