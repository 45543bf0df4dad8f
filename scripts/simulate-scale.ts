/**
 * Runs the scale simulation (test/support/scale-simulation.ts) on synthetic
 * keyspaces and writes docs/scale.md: measured figures, then the estimate on
 * paper for 100 million and 1 billion objects, its arithmetic shown.
 *
 *   npx tsx scripts/simulate-scale.ts [OBJECTS] [TASKS…]     (defaults 10000000 10)
 */
import { writeFileSync } from 'node:fs';
import { datedKeyspace, simulateOneTask, simulateShape, skewedKeyspace, uniformKeyspace, type ShapeFigures } from '../test/support/scale-simulation.js';
import { MAX_PROBES, MIN_PROBES, PIECES_PER_TASK, SHARED_MAX_PROBES_PER_PIECE, SHARED_MIN_PROBES, SHARED_PIECES_PER_TASK, SHARED_PLAN_SHARE, sharedProbeBudget } from '../src/backfill/range-planner.js';

const PAGE = 1000;
const n = (x: number): string => Math.round(x).toLocaleString('en-US');

/** Assumed list prices and request rates: public list prices and guidance as we read them; check before relying on them. */
const ASSUME = {
  gcsClassAPer1000: 0.005, // objects.list is a Class A operation (Standard storage)
  gcsClassBPer1000: 0.0004, // objects.get (the media download)
  s3PutListPer1000: 0.005, // PUT, COPY, POST, LIST
  s3GetHeadPer1000: 0.0004, // GET, HEAD
  s3PutPerSecond: 3500, // per partitioned prefix; S3 adds partitions under sustained load
  gcsReadPerSecond: 5000, // initial object reads per bucket; GCS ramps up under sustained load
  secondsPerListPage: 0.2, // one 1,000-name list call, either side
};

function measuredTable(rows: ShapeFigures[]): string[] {
  const lines = [
    '| plan | keyspace | objects | tasks | one-task list calls (GCS + S3) | ranged list calls, all tasks (incl. planning) | ratio | objects per task: min / mean / max | max ÷ mean | planning: list calls (paid by), CPU s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
  ];
  for (const r of rows) {
    const objects = r.perTask.map((t) => t.objects);
    const mean = r.objects / r.tasks;
    lines.push(
      `| ${r.shared ? 'shared' : 'per task'} | ${r.shape} | ${n(r.objects)} | ${r.tasks} | ${n(r.oneTaskCalls)} | ${n(r.totalCalls)} | ${r.callRatio.toFixed(3)} | ${n(Math.min(...objects))} / ${n(mean)} / ${n(Math.max(...objects))} | ${r.imbalance.toFixed(2)} | ${n(r.planCallsPerTask)} (${r.shared ? 'task 0' : 'every task'}), ${r.planSeconds.toFixed(2)} |`,
    );
  }
  return lines;
}

function perTaskTable(r: ShapeFigures): string[] {
  const lines = [`| task | GCS list calls | S3 list calls | planning calls | objects |`, '| ---: | ---: | ---: | ---: | ---: |'];
  r.perTask.forEach((t, i) => lines.push(`| ${i} | ${n(t.gcsCalls)} | ${n(t.s3Calls)} | ${t.planCalls} | ${n(t.objects)} |`));
  return lines;
}

function paperEstimate(): string[] {
  const a = ASSUME;
  const lines = [
    `| objects N | tasks T | list calls, hash shards (before): T × 2 × N/1,000 | pieces P = ${SHARED_PIECES_PER_TASK} T | plan probes p: ${SHARED_PLAN_SHARE * 100} % of N/1,000, at most ${SHARED_MAX_PROBES_PER_PIECE} P, at least ${SHARED_MIN_PROBES} | list calls, shared plan: 2 × N/1,000 + 2 × 2 × P + p | ratio to one task | copy requests: GCS get + S3 HEAD + S3 PUT | listing per task (both sides, 0.2 s a page) | copy wall time at 3,500 PUT/s |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const objects of [100e6, 1e9]) {
    for (const tasks of [100, 1000]) {
      const before = tasks * 2 * (objects / PAGE);
      const pieces = SHARED_PIECES_PER_TASK * tasks;
      const probes = sharedProbeBudget(objects, PAGE, pieces);
      const after = 2 * (objects / PAGE) + 2 * 2 * pieces + probes;
      const listHours = (2 * (objects / tasks / PAGE) * a.secondsPerListPage) / 3600;
      const copyHours = objects / a.s3PutPerSecond / 3600;
      lines.push(`| ${n(objects)} | ${n(tasks)} | ${n(before)} | ${n(pieces)} | ${n(probes)} | ${n(after)} | ${(after / (2 * (objects / PAGE))).toFixed(3)} | ${n(3 * objects)} | ${listHours.toFixed(2)} h | ${copyHours.toFixed(1)} h |`);
    }
  }
  const perMillion = {
    list: ((1e6 / PAGE) * (a.gcsClassAPer1000 + a.s3PutListPer1000)) / 1000,
    gcsGet: (1e6 * a.gcsClassBPer1000) / 1000,
    s3Head: (1e6 * a.s3GetHeadPer1000) / 1000,
    s3Put: (1e6 * a.s3PutListPer1000) / 1000,
  };
  const total = perMillion.list + perMillion.gcsGet + perMillion.s3Head + perMillion.s3Put;
  return [
    ...lines,
    '',
    'Cost per million objects (requests only; small objects, one PutObject each; GCS egress and S3 storage, which depend on bytes, not included):',
    '',
    `- listing: 1,000 GCS list calls × $${a.gcsClassAPer1000}/1,000 + 1,000 S3 list calls × $${a.s3PutListPer1000}/1,000 = $${perMillion.list.toFixed(3)} (a shared plan adds p GCS calls per run, at most ${SHARED_PLAN_SHARE * 100} % of the GCS listing when p is not at its floor: $${((SHARED_PLAN_SHARE * (1e6 / PAGE) * a.gcsClassAPer1000) / 1000).toFixed(5)} per million objects)`,
    `- GCS downloads: 1,000,000 × $${a.gcsClassBPer1000}/1,000 = $${perMillion.gcsGet.toFixed(2)}`,
    `- S3 HEADs (the generation check of each copy): 1,000,000 × $${a.s3GetHeadPer1000}/1,000 = $${perMillion.s3Head.toFixed(2)}`,
    `- S3 PUTs: 1,000,000 × $${a.s3PutListPer1000}/1,000 = $${perMillion.s3Put.toFixed(2)}`,
    `- total: **$${total.toFixed(2)} per million objects**; with hash shards the listing alone cost T times more ($${(perMillion.list * 100).toFixed(2)} per million at 100 tasks, $${(perMillion.list * 1000).toFixed(2)} at 1,000).`,
  ];
}

/** What the paper estimate's probes per piece say about balance, against the measured 10 million at 100 tasks (4 a piece). */
function paperBalance(): string[] {
  const thin: string[] = [];
  for (const objects of [100e6, 1e9]) {
    for (const tasks of [100, 1000]) {
      const pieces = SHARED_PIECES_PER_TASK * tasks;
      const perPiece = sharedProbeBudget(objects, PAGE, pieces) / pieces;
      if (perPiece < SHARED_MAX_PROBES_PER_PIECE) thin.push(`${n(objects)} objects at ${n(tasks)} tasks (${perPiece.toFixed(1)} a piece)`);
    }
  }
  return [
    `Balance at these sizes follows probes per piece, p ÷ P: ${SHARED_MAX_PROBES_PER_PIECE} a piece is what the 10 million names at 100 tasks measured`,
    `above took (at most 800 probes for 200 pieces)${thin.length > 0 ? `; fewer where ${SHARED_PLAN_SHARE * 100} % of the pages is less: ${thin.join(', ')}, not measured here` : ''}.`,
    'Each probe reads one page of 1,000 names whatever N, so a larger prefix is sampled more thinly between probes; the',
    'estimate between them is interpolation on the same scale, measured here only at 10 million.',
  ];
}

/** What the figures above fall short of, read from them. */
function knownGaps(rows: ShapeFigures[]): string[] {
  const label = (r: ShapeFigures): string => `${r.shape} at ${r.tasks} tasks, ${r.shared ? 'shared plan' : 'per task'}`;
  const unbalanced = rows.filter((r) => r.imbalance > 1.5);
  const costly = rows.filter((r) => r.callRatio > 1.1);
  const lines: string[] = [];
  if (unbalanced.length > 0) {
    lines.push(
      `- Balance: ${unbalanced.map((r) => `${label(r)} (max ÷ mean ${r.imbalance.toFixed(2)})`).join(', ')} above 1.5. Without PLAN_BUCKET every task`,
      `  pays the sample, so with many tasks over few objects each gets few probes (at least ${MIN_PROBES}, 15 % of its own GCS pages), and`,
      "  a sample that small misses where a skewed keyspace's objects are. The ranges stay exact (every object listed by exactly one task) whatever the balance.",
    );
  }
  if (costly.length > 0) {
    lines.push(
      `- List calls: ${costly.map((r) => `${label(r)} (${r.callRatio.toFixed(3)})`).join(', ')} above 1.1 × one task: every task pays the sample's`,
      `  floor (${MIN_PROBES} probes a task) or cap (${MAX_PROBES}), the cap on estimates that are off (a date-partitioned estimate runs`,
      '  orders of magnitude high: the columns of a date hold fewer values than their alphabets allow).',
    );
  }
  const skewedMargin = rows.filter((r) => r.shared && r.imbalance > 1.4 && r.imbalance <= 1.5);
  if (skewedMargin.length > 0) lines.push(`- Margin: ${skewedMargin.map((r) => `${label(r)} (${r.imbalance.toFixed(2)})`).join(', ')}: within 1.5, by a small margin: a sample sees densities, not counts, and a dense sub-prefix's edges are where its estimate errs.`);
  return lines.length > 0 ? lines : ['- None in these figures.'];
}

async function main(): Promise<void> {
  const objects = Number(process.argv[2] ?? 10_000_000);
  const taskCounts = process.argv.length > 3 ? process.argv.slice(3).map(Number) : [10];
  const signal = new AbortController().signal;
  const rows: ShapeFigures[] = [];
  const keyspaces = [uniformKeyspace(objects), skewedKeyspace(objects), datedKeyspace(objects)];
  const oneTask = await Promise.all(keyspaces.map((ks) => simulateOneTask(ks, PAGE, signal)));
  for (const shared of [true, false]) {
    for (const tasks of taskCounts) for (const [k, ks] of keyspaces.entries()) {
      const r = await simulateShape(ks, tasks, PAGE, signal, shared, oneTask[k]);
      process.stderr.write(`${r.shape}, ${tasks} tasks, ${shared ? 'shared' : 'per task'}: ratio ${r.callRatio.toFixed(3)}, max/mean ${r.imbalance.toFixed(2)}, ${r.seconds.toFixed(0)} s\n`);
      rows.push(r);
    }
  }
  writeFileSync('docs/scale.md', render(rows, objects, taskCounts));
}

function render(rows: ShapeFigures[], objects: number, taskCounts: number[]): string {
  const a = ASSUME;
  return `${[
    '# Backfill and verify at bucket scale',
    '',
    `<!-- Written by scripts/simulate-scale.ts; do not edit by hand. Reproduce: npx tsx scripts/simulate-scale.ts ${objects} ${taskCounts.join(' ')} -->`,
    '',
    '## How tasks share the work',
    '',
    'Each Cloud Run Job task (CLOUD_RUN_TASK_INDEX of CLOUD_RUN_TASK_COUNT) lists only its own contiguous ranges of',
    'names, in UTF-8 byte order: GCS with `startOffset` (inclusive) and `endOffset` (exclusive); S3 with `StartAfter` set',
    'to the greatest possible key below the range start (the start with its last character lowered by one and padded',
    "with the greatest characters to S3's 1,024-byte key limit, so no key can fall in between), stopping at the first",
    'page that reaches the range end. The prefix is cut at sorted boundaries b(1) … b(P−1) into P pieces, piece j being',
    '[b(j), b(j+1)), the first and last open, so the pieces cover the prefix exactly once whatever the boundaries are, and',
    'each piece belongs to exactly one task. A task killed and restarted lists its own ranges again, and only them.',
    '',
    '**A plan computed once.** With `PLAN_BUCKET` set, task 0 plans and writes the plan (the sorted boundaries, as JSON) to',
    '`gs://PLAN_BUCKET/CLOUD_RUN_JOB/CLOUD_RUN_EXECUTION/plan.json` with a create-only precondition (`ifGenerationMatch: 0`:',
    'a restarted task 0 or a second writer cannot replace a plan other tasks may already have read); every other task',
    'waits for that object and reads it (src/backfill/shared-plan.ts). A task still waiting after 10 minutes (task 0 not',
    'started: fewer tasks in parallel than tasks) plans itself and creates the object the same way; every task then uses',
    'whichever plan was stored first, so all tasks of an execution, and any restarted one, cut at the same boundaries. The',
    'sample is then paid once, not T times, so it can be large: one-page list calls (names only), ' + `${SHARED_PLAN_SHARE * 100} % of the GCS pages of`,
    `the whole prefix as the sample estimates it, at most ${SHARED_MAX_PROBES_PER_PIECE} per piece (an estimate that runs high must not buy thousands`,
    `of pages) and at least ${SHARED_MIN_PROBES} (finding a dense sub-prefix's edges takes about that many whatever T), sent in parallel`,
    'batches of 1/64 of the probes so far (larger batches steer worse). Without `PLAN_BUCKET` every task takes the same',
    `sample alike before it starts, ${MIN_PROBES} to ${MAX_PROBES} probes (15 % of one task's share of the GCS pages), sequentially.`,
    '',
    'Either way each probe is chosen from the previous answers: the next one halves the gap that may hold the most objects.',
    "Names are placed on a line as paths down a tree: at each depth one child per byte of that depth's alphabet, each",
    'child as wide as the whole next depth, plus one unit for a name ending there; a byte above the alphabet gets a',
    "child's width, so probes reach past what the sample knows. The alphabet is the bytes seen at that depth, plus whole",
    'runs of digits or letters between the least and greatest of the run seen there or deeper, where the run varies (a',
    "page of 1,000 neighbours shows a name's last columns whole, the middle ones only where probes landed; without the",
    'filling, uniform hex names were estimated at 1/16 of their number and a page across a column\'s end looked up to 25 ×',
    'sparser than its neighbours: the 5.79 × imbalance at 100 tasks the first figures showed). A gap between probes is',
    "estimated from the geometric mean of its neighbours' densities. The prefix is cut at equal shares of the estimate",
    `into ${SHARED_PIECES_PER_TASK} × T pieces, dealt in rows of T with every other row reversed (0, 1, …, T − 1, T − 1, …, 1, 0): each task`,
    'lists its pieces in turn (adjacent ones joined). A sample of pages sees how densely names are packed but not how',
    'many days a month has or how full each day is; the error that leaves drifts along the keyspace (daily volume growing',
    'fourfold over three years), and pieces from mirrored ends cancel it. Each extra piece costs a task about one partial',
    'page per side.',
    '',
    'Trade-off chosen: a planning step (task 0 plans, the others read its plan) when `PLAN_BUCKET` is set: one sample for',
    'all tasks, so balance holds at 100 tasks and more, planning costs p list calls per run instead of T × p, and every',
    'task cuts at the same boundaries even if objects are created or deleted while the job runs. Its price: a bucket the',
    'job may write to, tasks other than 0 waiting for the plan before their first copy, and a plan object per run to',
    'keep or expire. Without `PLAN_BUCKET` every task samples alike (nothing to run first, nothing to clean up), at the',
    'price of T × p list calls, worse balance over many tasks (figures below), and of relying on every task seeing the',
    'same answers: objects created or deleted *inside the sampled pages* while tasks plan can shift a boundary between',
    'two tasks, making them overlap (harmless: each copy is generation-guarded, the second is skipped by its HEAD) or',
    'leave a gap, whose objects the next run, or the live pull/push path for new objects, copies.',
    '',
    `## Simulation: ${n(objects)} names, ${taskCounts.join(' and ')} tasks, pages of ${PAGE}`,
    '',
    'Synthetic listings generated lazily (name i computed, never stored), served by in-memory stand-ins of',
    '`objects.list` (startOffset/endOffset/pageToken) and `ListObjectsV2` (StartAfter/ContinuationToken), 1,000 per call,',
    "read through the real GcsLister, S3Lister, range planner and walk (merge included). S3 holds every object (verify's",
    'case, both sides listed). The one-task run lists everything with no range. Each plan is computed once; a shared',
    "plan's list calls are charged to task 0 only, a per-task plan's to every task. Planning CPU is that of one plan (the",
    'simulated list calls answer at once; a real plan waits for its list calls, in batches when shared).',
    '',
    ...rows.filter((r) => r.tasks === taskCounts[0] && r.shared).map((r) => `- **${r.shape}**: ${r.description}`),
    '',
    ...measuredTable(rows),
    '',
    ...rows.filter((r) => r.tasks <= 20 && r.shared).flatMap((r) => [`<details><summary>${r.shape}, ${r.tasks} tasks, shared plan: per task</summary>`, '', ...perTaskTable(r), '', '</details>', '']),
    '## Estimate on paper: 100 million and 1 billion objects',
    '',
    'Assumed (public list prices and guidance as read; check before relying on them):',
    `GCS objects.list $${a.gcsClassAPer1000} and objects.get $${a.gcsClassBPer1000} per 1,000 (Class A / B);`,
    `S3 PUT/LIST $${a.s3PutListPer1000} and GET/HEAD $${a.s3GetHeadPer1000} per 1,000;`,
    `S3 ${n(a.s3PutPerSecond)} PUT/s per partitioned prefix (it adds partitions under sustained load) and 5,500 GET/HEAD/s;`,
    `GCS about ${n(a.gcsReadPerSecond)} object reads/s per bucket at first, ramping up under sustained load;`,
    `${a.secondsPerListPage} s per 1,000-name list call. Each copied small object costs one GCS download, one S3 HEAD and one S3 PUT.`,
    '',
    ...paperEstimate(),
    '',
    ...paperBalance(),
    '',
    'Wall time: the listing is no longer the bottleneck (a task lists only N/T names: minutes, where hash shards made',
    'every task page through all N names on both sides: at 1 billion objects, 2 × 1,000,000 pages × 0.2 s ≈ 111 h per',
    "task, whatever T). The copies are bound by S3's PUT rate: 100 million objects at 3,500/s ≈ 7.9 h, 1 billion ≈ 79 h,",
    'unless S3 has partitioned the key space further (sustained load, keys spread over prefixes); more tasks help only',
    'until then. GCS reads (5,000/s initially) are not the limit.',
    '',
    '## Known gaps',
    '',
    ...knownGaps(rows),
    '',
  ].join('\n')}`;
}

await main();
