import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Runs a load client as a separate Node process (so it takes no CPU from the server being
 * measured): `script` is JavaScript for `node -e`, given `cfg` as JSON in argv[1]; it prints one
 * JSON object, which is returned.
 */
export function runChild<T>(script: string, cfg: object, what = 'the load client'): Promise<T> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['-e', script, JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (c) => {
      out += c;
    });
    child.stderr?.on('data', (c) => {
      err += c;
    });
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${what} failed: ${err}`))));
  });
}
