// What `docker build .` would put in the image, read from the Dockerfile and .dockerignore without a
// docker engine: the build context (the repository minus .dockerignore), each stage's COPY
// instructions, and the files the runtime stage copies from the context.
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface CopyInstruction {
  stage: string;
  /** the stage (or image) named by --from=, undefined for the build context */
  from: string | undefined;
  sources: string[];
  destination: string;
}

export interface Dockerfile {
  stages: string[];
  copies: CopyInstruction[];
  /** every instruction as written (continuations joined), for checks on RUN, ENV, ARG */
  instructions: string[];
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions = text
    .replace(/\\\r?\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: string[] = [];
  const copies: CopyInstruction[] = [];
  for (const instruction of instructions) {
    const [keyword = '', ...words] = instruction.split(/\s+/);
    if (keyword.toUpperCase() === 'FROM') {
      const as = words.findIndex((word) => word.toUpperCase() === 'AS');
      stages.push(as >= 0 ? (words[as + 1] ?? '') : String(stages.length));
    }
    if (keyword.toUpperCase() === 'COPY' || keyword.toUpperCase() === 'ADD') {
      const flags = words.filter((word) => word.startsWith('--'));
      const paths = words.filter((word) => !word.startsWith('--'));
      copies.push({
        stage: stages.at(-1) ?? '',
        from: flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length),
        sources: paths.slice(0, -1),
        destination: paths.at(-1) ?? '',
      });
    }
  }
  return { stages, copies, instructions };
}

interface IgnoreRule {
  pattern: string;
  exclude: boolean;
}

/** .dockerignore as docker reads it: the last matching line wins; a matching directory takes its contents. */
export function parseDockerignore(text: string): (relativePath: string) => boolean {
  const rules: IgnoreRule[] = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) =>
      line.startsWith('!')
        ? { pattern: path.posix.normalize(line.slice(1)), exclude: false }
        : { pattern: path.posix.normalize(line), exclude: true },
    );
  return (relativePath) => {
    const parts = relativePath.split('/');
    const prefixes = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
    let ignored = false;
    for (const rule of rules) {
      if (prefixes.some((prefix) => path.matchesGlob(prefix, rule.pattern))) ignored = rule.exclude;
    }
    return ignored;
  };
}

/** Files of the build context under `source` (a path in the context), as context-relative paths. */
export function contextFiles(
  root: string,
  source: string,
  ignored: (relativePath: string) => boolean,
): string[] {
  const start = path.posix.normalize(source).replace(/^\.\/?|\/$/g, '') || '.';
  const files: string[] = [];
  const visit = (relative: string) => {
    if (relative !== '.' && ignored(relative)) return;
    const absolute = path.join(root, relative);
    if (!statSync(absolute).isDirectory()) {
      files.push(relative);
      return;
    }
    for (const entry of readdirSync(absolute)) visit(relative === '.' ? entry : `${relative}/${entry}`);
  };
  visit(start);
  return files;
}

/** Every file that each COPY/ADD from the build context brings into a layer, in any stage. */
export function filesCopiedFromContext(root: string): Array<{ copy: CopyInstruction; files: string[] }> {
  const dockerfile = parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const ignored = parseDockerignore(readFileSync(path.join(root, '.dockerignore'), 'utf8'));
  return dockerfile.copies
    .filter((copy) => copy.from === undefined)
    .map((copy) => ({
      copy,
      files: copy.sources.flatMap((source) => contextFiles(root, source, ignored)),
    }));
}

/**
 * Lays out under `target` what the last stage copies from the build context (its WORKDIR being
 * `target`), as the image's /app holds it. Stages' own outputs (node_modules) are left to the caller.
 */
export function layOutRuntimeStage(root: string, target: string): void {
  const dockerfile = parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const ignored = parseDockerignore(readFileSync(path.join(root, '.dockerignore'), 'utf8'));
  const last = dockerfile.stages.at(-1);
  for (const copy of dockerfile.copies.filter((each) => each.stage === last && each.from === undefined)) {
    for (const source of copy.sources) {
      const base = path.posix.normalize(source).replace(/\/$/, '');
      const intoDirectory = copy.destination.endsWith('/') || copy.sources.length > 1;
      for (const file of contextFiles(root, source, ignored)) {
        const inside = statSync(path.join(root, base)).isDirectory()
          ? path.posix.relative(base, file)
          : path.posix.basename(file);
        const destination =
          intoDirectory || statSync(path.join(root, base)).isDirectory()
            ? path.join(target, copy.destination, inside)
            : path.join(target, copy.destination);
        mkdirSync(path.dirname(destination), { recursive: true });
        cpSync(path.join(root, file), destination);
      }
    }
  }
}
