// Helpers of the dashboard (grafonnet is not at hand): panels with the
// house defaults of their type, queries on the ${datasource} variable, and
// the placement of a panel on Grafana's 24-column grid.
{
  datasource:: { type: 'prometheus', uid: '${datasource}' },

  // What each panel type looks like unless a panel says otherwise.
  types:: {
    stat: {
      options: {
        colorMode: 'value',
        graphMode: 'none',
        justifyMode: 'auto',
        orientation: 'auto',
        reduceOptions: {
          calcs: [
            'lastNotNull',
          ],
          fields: '',
          values: false,
        },
        textMode: 'auto',
        wideLayout: true,
      },
      defaults: {
        mappings: [],
        color: {
          mode: 'thresholds',
        },
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
    'state-timeline': {
      options: {
        alignValue: 'left',
        legend: {
          displayMode: 'list',
          placement: 'bottom',
          showLegend: false,
        },
        mergeValues: true,
        rowHeight: 0.9,
        showValue: 'auto',
        tooltip: {
          mode: 'single',
          sort: 'none',
        },
      },
      defaults: {
        mappings: [
          {
            options: {
              '0': {
                color: 'purple',
                index: 0,
                text: 'unknown',
              },
              '1': {
                color: 'green',
                index: 1,
                text: 'ACTIVE',
              },
              '2': {
                color: 'blue',
                index: 2,
                text: 'ACTIVATING',
              },
              '3': {
                color: 'text',
                index: 3,
                text: 'INACTIVE',
              },
              '4': {
                color: 'yellow',
                index: 4,
                text: 'DEACTIVATING',
              },
              '5': {
                color: 'red',
                index: 5,
                text: 'ERROR',
              },
            },
            type: 'value',
          },
        ],
        color: {
          mode: 'thresholds',
        },
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
    table: {
      options: {
        cellHeight: 'sm',
        footer: {
          fields: '',
          reducer: [
            'sum',
          ],
          show: false,
        },
        showHeader: true,
        sortBy: [
          {
            desc: true,
            displayName: 'Targets without a dead-letter queue',
          },
        ],
      },
      defaults: {
        mappings: [],
        color: {
          mode: 'thresholds',
        },
        thresholds: {
          mode: 'absolute',
          steps: [
            {
              color: 'green',
              value: null,
            },
          ],
        },
        custom: {
          align: 'auto',
          cellOptions: {
            type: 'auto',
          },
        },
      },
    },
    timeseries: {
      options: {
        legend: {
          calcs: [
            'lastNotNull',
            'max',
          ],
          displayMode: 'table',
          placement: 'bottom',
          showLegend: true,
        },
        tooltip: {
          mode: 'multi',
          sort: 'desc',
        },
      },
      defaults: {
        custom: {
          axisCenteredZero: false,
          axisLabel: '',
          axisPlacement: 'auto',
          axisSoftMin: 0,
          drawStyle: 'line',
          fillOpacity: 10,
          gradientMode: 'none',
          lineInterpolation: 'linear',
          lineWidth: 1,
          pointSize: 5,
          showPoints: 'never',
          spanNulls: false,
          stacking: {
            group: 'A',
            mode: 'none',
          },
          thresholdsStyle: {
            mode: 'off',
          },
        },
      },
    },
  },

  // The names __requires gives the panel types.
  panelNames:: {
    stat: 'Stat',
    timeseries: 'Time series',
    'state-timeline': 'State timeline',
    table: 'Table',
  },

  grid(x, y, w, h):: { h: h, w: w, x: x, y: y },

  // A range query, as the query editor's code mode writes it; refIds are
  // given in order by panel().
  q(expr, legend):: {
    datasource: $.datasource,
    editorMode: 'code',
    expr: expr,
    legendFormat: legend,
    range: true,
    instant: false,
  },

  // An instant query for a table.
  table(expr, legend):: $.q(expr, legend) + { range: false, instant: true, format: 'table' },

  panel(type, id, title, gridPos, unit, description, targets):: {
    type: type,
    id: id,
    title: title,
    description: description,
    datasource: $.datasource,
    gridPos: gridPos,
    fieldConfig: {
      defaults: { unit: unit } + $.types[type].defaults,
      overrides: [],
    },
    options: $.types[type].options,
    targets: [
      targets[i] { refId: std.char(std.codepoint('A') + i) }
      for i in std.range(0, std.length(targets) - 1)
    ],
  },

  row(id, title, y, collapsed=false, panels=[]):: {
    type: 'row',
    id: id,
    title: title,
    collapsed: collapsed,
    gridPos: $.grid(0, y, 24, 1),
    panels: panels,
  },
}
