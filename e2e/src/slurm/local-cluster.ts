import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A single-node SLURM cluster (Debian's slurm-wlm and munge) living in one temporary folder. */
export interface LocalCluster {
  readonly dir: string;
  /** Environment for sbatch, squeue, scontrol: `SLURM_CONF` pointing into the folder. */
  readonly env: NodeJS.ProcessEnv;
  /** Runs a SLURM client command and returns its stdout. */
  command(name: string, args: readonly string[]): Promise<string>;
  /** Stops the daemons this cluster started, by their pid files. */
  stop(): Promise<void>;
}

const PROGRAMS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'sinfo'];

/** Throws a clear error when the SLURM or munge programs are missing, naming the packages to install. */
export function requireSlurm(): void {
  const missing = PROGRAMS.filter((p) => {
    try {
      execFileSync('sh', ['-c', `command -v ${p}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) throw new Error(`The SLURM test needs ${missing.join(', ')}: apt-get install -y slurm-wlm munge (as .ci/run does), and root.`);
  if (process.getuid?.() !== 0) throw new Error('The SLURM test starts slurmctld and slurmd as root (as the recipe in ../shared/slurm does): run it as root.');
}

/** The slurm.conf of ../shared/slurm's recipe, for this folder and host. */
function slurmConf(dir: string, host: string, cpus: number): string {
  return [
    'ClusterName=xlttest',
    `SlurmctldHost=${host}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    `AuthInfo=socket=${dir}/munge/sock`,
    'CredType=cred/munge',
    `StateSaveLocation=${dir}/state`,
    `SlurmdSpoolDir=${dir}/spool`,
    `SlurmctldPidFile=${dir}/ctld.pid`,
    `SlurmdPidFile=${dir}/d.pid`,
    `SlurmctldLogFile=${dir}/log/ctld.log`,
    `SlurmdLogFile=${dir}/log/d.log`,
    'SlurmctldPort=16817',
    'SlurmdPort=16818',
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SchedulerType=sched/backfill',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    'MpiDefault=none',
    'JobAcctGatherType=jobacct_gather/none',
    'JobRequeue=1',
    `NodeName=${host} CPUs=${cpus} RealMemory=8000 State=UNKNOWN`,
    'PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
    '',
  ].join('\n');
}

/** Starts munged, slurmctld and slurmd with everything in `dir`, and waits until the node is idle. */
export async function startLocalCluster(dir: string, cpus = 2): Promise<LocalCluster> {
  const host = hostname();
  for (const d of ['state', 'spool', 'log', 'munge']) await mkdir(join(dir, d), { recursive: true });
  await writeFile(join(dir, 'munge', 'munge.key'), (await import('node:crypto')).randomBytes(1024));
  await chmod(join(dir, 'munge', 'munge.key'), 0o400);
  const conf = join(dir, 'slurm.conf');
  await writeFile(conf, slurmConf(dir, host, cpus));
  const env = { ...process.env, SLURM_CONF: conf };
  const m = join(dir, 'munge');
  await run('munged', ['--key-file', `${m}/munge.key`, '--socket', `${m}/sock`, '--pid-file', `${m}/pid`, '--log-file', `${m}/log`, '--seed-file', `${m}/seed`, '-f']);
  await run('slurmctld', ['-c', '-f', conf], { env });
  await run('slurmd', ['-f', conf], { env });
  const command = async (name: string, args: readonly string[]) => (await run(name, [...args], { env, encoding: 'utf8' })).stdout;
  const stop = async () => {
    for (const pidFile of [join(dir, 'd.pid'), join(dir, 'ctld.pid'), join(m, 'pid')]) {
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (pid > 0) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    await rm(join(dir, 'state'), { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    const state = await command('sinfo', ['-h', '-o', '%t']).catch(() => '');
    if (/idle|mix|alloc/.test(state)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`The local SLURM node did not become idle within 60 s (sinfo: ${state.trim() || 'no answer'}); logs in ${dir}/log.`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { dir, env, command, stop };
}
