import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { CONFIG_KEYS } from '../platform/config.js';
import { SUBGRAPHS } from '../subgraphs/index.js';

/**
 * The Kubernetes manifests (deploy/kubernetes), checked as `kubectl apply -k` would meet them: every
 * object valid against the Kubernetes API schemas (kubernetes-models' JSON schemas), and the shape
 * Tenantwatch needs: probes on /healthz and /readyz, resource requests and limits, a
 * PodDisruptionBudget per Deployment, secrets only from the Secret, every variable one Tenantwatch
 * reads, every command one the build produces, every URL a Service that exists.
 */

const DIR = path.join(import.meta.dirname, 'kubernetes');
const ROOT = path.resolve(import.meta.dirname, '..');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

interface Container {
  name: string;
  image: string;
  command: string[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string } }[];
  startupProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

function read(file: string): K8sObject[] {
  const documents = parseAllDocuments(fs.readFileSync(path.join(DIR, file), 'utf8'));
  return documents.map((d) => {
    expect(d.errors, file).toEqual([]);
    return d.toJS() as K8sObject;
  });
}

const kustomization = read('kustomization.yaml')[0] as unknown as { resources: string[] };
const applied = kustomization.resources.flatMap(read);
const all = [...applied, ...read('secret.example.yaml')];
const ofKind = <T = K8sObject>(kind: string) => applied.filter((o) => o.kind === kind) as T[];
const containersOf = (d: K8sObject) => (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers;
const SECRET_KEYS = Object.keys(read('secret.example.yaml')[0]!.stringData!);

/** The kubernetes-models class for an object's apiVersion and kind (core group: `v1/Kind`). */
async function modelOf(object: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : [undefined, object.apiVersion];
  const module = (await import(`kubernetes-models/${group ? `${group}/` : ''}${version}/${object.kind}`)) as Record<string, unknown>;
  return module[object.kind] as new (data: unknown) => { validate(): void };
}

describe('Kubernetes manifests', () => {
  it('apply every file but the example Secret, and each object is valid against the Kubernetes schemas', async () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect(new Set(kustomization.resources)).toEqual(new Set(files.filter((f) => f !== 'secret.example.yaml')));
    expect(all.length).toBeGreaterThan(20);
    for (const object of all) {
      const Model = await modelOf(object);
      expect(() => new Model(object).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
    }
    // A broken object is caught: the check is real.
    const Model = await modelOf(ofKind('Deployment')[0]!);
    expect(() => new Model({ ...ofKind('Deployment')[0], spec: { replicas: 'two' } }).validate()).toThrow();
  });

  it('run every part with probes, resources, a disruption budget and at least two replicas', () => {
    const deployments = ofKind('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(
      ['gateway', 'scheduler', ...SUBGRAPHS.map((s) => s.name)].map((n) => `tenantwatch-${n}`).sort(),
    );
    const budgets = ofKind<{ spec: { selector: { matchLabels: Record<string, string> }; minAvailable: number } }>('PodDisruptionBudget');
    for (const deployment of deployments) {
      const spec = deployment.spec as { replicas: number; template: { metadata: { labels: Record<string, string> } } };
      expect(spec.replicas, deployment.metadata.name).toBeGreaterThanOrEqual(2);
      const labels = spec.template.metadata.labels;
      expect(
        budgets.some((b) => Object.entries(b.spec.selector.matchLabels).every(([k, v]) => labels[k] === v)),
        `${deployment.metadata.name} has a PodDisruptionBudget`,
      ).toBe(true);
      for (const container of containersOf(deployment)) {
        expect(container.livenessProbe?.httpGet?.path, deployment.metadata.name).toBe('/healthz');
        expect(container.startupProbe?.httpGet?.path, deployment.metadata.name).toBe('/healthz');
        expect(container.readinessProbe?.httpGet?.path, deployment.metadata.name).toBe('/readyz');
        expect(Object.keys(container.resources?.requests ?? {}).sort(), deployment.metadata.name).toEqual(['cpu', 'memory']);
        expect(Object.keys(container.resources?.limits ?? {}).sort(), deployment.metadata.name).toEqual(['cpu', 'memory']);
      }
    }
  });

  it('read only variables Tenantwatch knows, secrets only from the Secret, and run what the build produces', () => {
    const config = ofKind('ConfigMap').find((c) => c.metadata.name === 'tenantwatch-config')!;
    for (const key of Object.keys(config.data!)) expect(CONFIG_KEYS, `ConfigMap ${key}`).toContain(key);
    for (const key of SECRET_KEYS) expect(CONFIG_KEYS, `Secret ${key}`).toContain(key);
    const services = new Set(ofKind('Service').map((s) => s.metadata.name));
    for (const deployment of ofKind('Deployment')) {
      for (const container of containersOf(deployment)) {
        expect(container.envFrom?.[0]?.configMapRef?.name).toBe('tenantwatch-config');
        for (const variable of container.env ?? []) {
          expect(CONFIG_KEYS, `${deployment.metadata.name} ${variable.name}`).toContain(variable.name);
          if (/SECRET|KEY|DATABASE_URL|MONGODB_URL/.test(variable.name)) {
            expect(variable.value, `${variable.name} must come from the Secret`).toBeUndefined();
            expect(variable.valueFrom?.secretKeyRef).toEqual({ name: 'tenantwatch-secrets', key: variable.name });
            expect(SECRET_KEYS).toContain(variable.name);
          }
          // The gateway's subgraph URLs name Services of this set.
          if (variable.name.endsWith('_URL') && variable.value)
            expect(services, variable.value).toContain(new URL(variable.value).hostname);
        }
        // `node ... dist/<x>.js [subgraph]`: built from <x>.ts, with a subgraph that exists.
        const script = container.command.find((c) => c.startsWith('dist/'))!;
        expect(fs.existsSync(path.join(ROOT, script.replace(/^dist\//, '').replace(/\.js$/, '.ts'))), script).toBe(true);
        const argument = container.command[container.command.indexOf(script) + 1];
        if (argument) expect(SUBGRAPHS.map((s) => s.name)).toContain(argument);
      }
    }
    // Every Service selects pods some Deployment makes (the external ones aside).
    const podLabels = ofKind('Deployment').map(
      (d) => (d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels,
    );
    for (const service of ofKind<{ metadata: { name: string }; spec: { type: string; selector?: Record<string, string> } }>('Service')) {
      if (service.spec.type === 'ExternalName') continue;
      expect(
        podLabels.some((labels) => Object.entries(service.spec.selector ?? {}).every(([k, v]) => labels[k] === v)),
        `Service ${service.metadata.name} selects pods`,
      ).toBe(true);
    }
  });
});
