import { OVERRIDES_VARIABLE } from '../config/config-overrides.js';

/** What `xlt submit k8s` needs to write an Indexed Job: the image and the volume that holds the output folder. */
export interface IndexedJobOptions {
  /** Experiment config, as the containers see it (on the shared volume). */
  readonly config: string;
  /** Output folder, as the containers see it (on the shared volume). */
  readonly out: string;
  readonly units: number;
  readonly name: string;
  /** Container image with Node, xlt and its plugins installed (`xlt` on the PATH). */
  readonly image: string;
  /** PersistentVolumeClaim that holds the config, data, model and output folder. */
  readonly claim: string;
  /** Where the claim is mounted in the containers. */
  readonly mountPath: string;
  readonly parallel?: number;
  readonly cpusPerTask?: number;
  readonly gpusPerTask?: number;
  readonly mem?: string;
  /** `--set` overrides of the submitting command (the `XLT_SET` value), passed to every container. */
  readonly overrides?: string;
}

/** A Kubernetes object name: lower case, digits and dashes, at most 52 characters (Job names leave room for pods). */
function k8sName(name: string): string {
  return (`xlt-${name}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'xlt').slice(0, 52).replace(/-+$/, '');
}

const yamlString = (s: string) => JSON.stringify(s);

/**
 * Two Kubernetes Jobs: an Indexed Job of units (`completionMode: Indexed`; each pod's `JOB_COMPLETION_INDEX` picks its
 * unit, a failed pod is retried) and the aggregate Job, to apply once the first has completed (Kubernetes has no job
 * dependencies: `kubectl wait --for=condition=complete job/<name>-units`).
 */
export function indexedJobManifests(o: IndexedJobOptions): { readonly units: string; readonly aggregate: string; readonly name: string } {
  const name = k8sName(o.name);
  const cpus = o.cpusPerTask ?? 1;
  const resources = [
    '          resources:',
    '            limits:',
    `              cpu: "${cpus}"`,
    ...(o.mem ? [`              memory: ${yamlString(o.mem)}`] : []),
    ...(o.gpusPerTask ? [`              nvidia.com/gpu: "${o.gpusPerTask}"`] : []),
  ];
  const threads = ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'TF_NUM_INTRAOP_THREADS', 'XLT_NATIVE_THREADS'].flatMap((n) => [`            - name: ${n}`, `              value: "${cpus}"`]);
  if (o.overrides) threads.push(`            - name: ${OVERRIDES_VARIABLE}`, `              value: ${yamlString(o.overrides)}`);
  const job = (jobName: string, spec: string[], args: string[]) =>
    [
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata:',
      `  name: ${jobName}`,
      'spec:',
      ...spec,
      '  template:',
      '    spec:',
      '      restartPolicy: Never',
      '      containers:',
      '        - name: xlt',
      `          image: ${yamlString(o.image)}`,
      '          command: ["xlt"]',
      `          args: [${['run', o.config, '--out', o.out, ...args].map(yamlString).join(', ')}]`,
      '          env:',
      ...threads,
      ...resources,
      '          volumeMounts:',
      '            - name: work',
      `              mountPath: ${yamlString(o.mountPath)}`,
      '      volumes:',
      '        - name: work',
      '          persistentVolumeClaim:',
      `            claimName: ${yamlString(o.claim)}`,
      '',
    ].join('\n');
  return {
    name,
    units: job(`${name}-units`, ['  completionMode: Indexed', `  completions: ${o.units}`, `  parallelism: ${o.parallel ?? o.units}`, '  backoffLimitPerIndex: 2', `  maxFailedIndexes: ${o.units}`], []),
    aggregate: job(`${name}-aggregate`, ['  backoffLimit: 2'], ['--aggregate']),
  };
}
