import { planAtScale } from './planning.js';

// One size per process, so the peak RSS it reports is that size's alone.
const nodes = Number(process.argv[2]);
process.stdout.write(`${JSON.stringify(planAtScale(nodes))}\n`);
