// The alerting rules, in two groups: the Genesys Cloud side and the
// delivery path on AWS. Every join is on(job, instance, ...): with many
// organisations on /probe each is its own instance, and an organisation
// scraped by two jobs is two targets; nothing is matched across them.
local aws = import 'aws.libsonnet';
local consumers = import 'consumer-groups.libsonnet';
local exporter = import 'exporter.libsonnet';
local integrations = import 'integrations.libsonnet';

{
  prometheusAlerts+:: {
    groups+: [
      {
        name: 'genesys-eventbridge',
        rules: consumers.alerts($._config) + exporter.alerts($._config) + integrations.alerts($._config),
      },
      {
        name: 'genesys-eventbridge-aws',
        rules: aws.alerts($._config),
      },
    ],
  },
}
