// The README's example operations, preloaded as GraphiQL tabs (README.md "A first query" and "Live detections").
export const EXAMPLES: { query: string; variables?: string }[] = [
  {
    query: `# README: a first query
{
  appInstances {
    id
    name
    status
  }
}
`,
  },
  {
    query: `# README: a nested query across all four subgraphs
{
  accounts(first: 10, filter: { isAdmin: true }) {
    totalCount
    edges {
      node {
        email
        instance { name }
        activities(first: 5) { edges { node { action occurredAt country } } }
        files(first: 5) { totalCount edges { node { name sharing sensitiveMatches { type count } } } }
        appPermissions(first: 5) { edges { node { appName permissionLevel scopes } } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`,
  },
  {
    query: `# README: live detections (analyst or above); pass the last cursor you saw as $after to resume
subscription LiveDetections($after: String) {
  detectionRaised(filter: { severityAtLeast: LOW }, after: $after) {
    cursor
    change
    detection {
      title
      severity
      account { email }
      file { name }
      appPermission { appName }
    }
  }
}
`,
    variables: '{ "after": null }',
  },
];
