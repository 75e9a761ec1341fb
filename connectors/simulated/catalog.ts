/** Fixed vocabularies the generator draws from. Fictional names; reserved example domains only. */

export const GIVEN_NAMES = [
  'Ada',
  'Ben',
  'Chloe',
  'Dmitri',
  'Elena',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Keiko',
  'Liam',
  'Maya',
  'Noah',
  'Olga',
  'Priya',
  'Quentin',
  'Rosa',
  'Sami',
  'Tara',
  'Umar',
  'Vera',
  'Wei',
  'Ximena',
  'Yusuf',
  'Zoe',
  'Amara',
  'Bruno',
  'Carmen',
  'Diego',
  'Emeka',
  'Freya',
] as const;

export const FAMILY_NAMES = [
  'Adams',
  'Berg',
  'Costa',
  'Dubois',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ivanova',
  'Jensen',
  'Kowalski',
  'Lopez',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Patel',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Usman',
  'Varga',
  'Weber',
  'Xu',
  'Yilmaz',
  'Zhang',
] as const;

export const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'Marketing', 'Support', 'Legal', 'People', 'Operations'] as const;

/** Home countries, weighted, and a first octet per country so addresses look regional. */
export const HOME_COUNTRIES: readonly (readonly [string, number])[] = [
  ['US', 40],
  ['GB', 12],
  ['DE', 10],
  ['FR', 8],
  ['IN', 8],
  ['CA', 6],
  ['NL', 5],
  ['ES', 4],
  ['JP', 4],
  ['AU', 3],
];

/** Countries a stolen credential is used from: never a home country above. */
export const UNUSUAL_COUNTRIES = ['RU', 'NG', 'BR', 'VN', 'RO', 'KP', 'IR', 'CN'] as const;

export const COUNTRY_OCTET: Readonly<Record<string, number>> = {
  US: 23,
  GB: 51,
  DE: 85,
  FR: 90,
  IN: 49,
  CA: 24,
  NL: 77,
  ES: 88,
  JP: 126,
  AU: 101,
  RU: 95,
  NG: 41,
  BR: 177,
  VN: 113,
  RO: 86,
  KP: 175,
  IR: 5,
  CN: 36,
};

export const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'SimDrive-Sync/3.2 (Windows)',
] as const;

/** A user agent nobody in the company uses: scripted access. */
export const SCRIPT_USER_AGENTS = ['python-requests/2.31.0', 'curl/8.5.0', 'Go-http-client/1.1'] as const;

export const ADMIN_PRIVILEGES = ['super_admin', 'user_management', 'security_admin', 'billing_admin', 'groups_admin'] as const;

/** Domains of people outside the company (reserved example domains). */
export const EXTERNAL_DOMAINS = ['partner.example.org', 'contractor.example.net', 'mail.example.org', 'agency.example.net'] as const;

export interface AppEntry {
  readonly name: string;
  readonly publisher: string | null;
  readonly risk: 'LOW' | 'MEDIUM' | 'HIGH';
  readonly scopes: readonly string[];
  /** Relative popularity: a few apps are granted by many users. */
  readonly weight: number;
}

export const APPS: readonly AppEntry[] = [
  { name: 'MeetSpace', publisher: 'MeetSpace Inc.', risk: 'LOW', scopes: ['openid', 'email', 'profile'], weight: 30 },
  { name: 'CalSync', publisher: 'Tempo Labs', risk: 'MEDIUM', scopes: ['openid', 'email', 'calendar.read'], weight: 14 },
  {
    name: 'PDF Converter Pro',
    publisher: null,
    risk: 'HIGH',
    scopes: ['openid', 'email', 'files.readwrite.all', 'offline_access'],
    weight: 16,
  },
  {
    name: 'MailMerge Express',
    publisher: 'Unverified Dev',
    risk: 'HIGH',
    scopes: ['openid', 'mail.send', 'mail.read', 'contacts.read'],
    weight: 6,
  },
  {
    name: 'OrgChart Builder',
    publisher: 'Chartly',
    risk: 'HIGH',
    scopes: ['openid', 'directory.readwrite.all', 'users.read.all'],
    weight: 3,
  },
  {
    name: 'Backup Buddy',
    publisher: null,
    risk: 'HIGH',
    scopes: ['files.readwrite.all', 'mail.send', 'directory.readwrite.all', 'offline_access'],
    weight: 2,
  },
  { name: 'Sketchpad', publisher: 'Sketch Co', risk: 'LOW', scopes: ['openid', 'profile'], weight: 8 },
  { name: 'DocuQuick', publisher: 'Quick Docs Ltd', risk: 'MEDIUM', scopes: ['openid', 'email', 'files.read'], weight: 10 },
  { name: 'TaskTrail', publisher: 'Trail Software', risk: 'MEDIUM', scopes: ['openid', 'email', 'files.read', 'calendar.read'], weight: 7 },
  { name: 'GrammarGuard', publisher: 'Guard AI', risk: 'MEDIUM', scopes: ['openid', 'email', 'mail.read'], weight: 4 },
];

/** Words for file bodies: no digits and no `@`, so only planted values look sensitive. */
export const WORDS = [
  'quarterly',
  'review',
  'customer',
  'pipeline',
  'budget',
  'forecast',
  'roadmap',
  'release',
  'contract',
  'renewal',
  'vendor',
  'invoice',
  'meeting',
  'notes',
  'summary',
  'action',
  'items',
  'owner',
  'deadline',
  'priority',
  'migration',
  'onboarding',
  'policy',
  'security',
  'training',
  'campaign',
  'launch',
  'feedback',
  'support',
  'ticket',
  'escalation',
  'analysis',
  'metrics',
  'growth',
  'retention',
  'pricing',
  'proposal',
  'draft',
  'final',
  'approved',
  'team',
  'project',
  'status',
  'update',
  'risk',
  'plan',
  'design',
  'architecture',
  'service',
  'incident',
] as const;

export const FOLDERS = [
  '/Shared/Finance',
  '/Shared/Sales',
  '/Shared/Engineering',
  '/Shared/HR',
  '/Projects',
  '/Personal',
  '/Exports',
  '/Marketing',
] as const;

export const FILE_STEMS = [
  'budget',
  'customers',
  'payroll',
  'roadmap',
  'notes',
  'contacts',
  'export',
  'config',
  'invoices',
  'report',
  'plan',
  'onboarding',
  'credentials',
  'handbook',
  'pricing',
  'leads',
  'minutes',
  'proposal',
  'backup',
  'summary',
] as const;

export const GROUP_NAMES = [
  'All Staff',
  'Engineering',
  'Sales',
  'Finance',
  'Marketing',
  'Support',
  'Legal',
  'People Ops',
  'Leadership',
  'Security',
  'Contractors',
  'Interns',
  'Design',
  'Data',
  'Partners',
] as const;
