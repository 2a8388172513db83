// The figures of a run as the suite prints them, and as bench/README.md quotes them.
import type { ChaosReport } from './run.ts';

const secs = (ms: number): string => `${Math.round(ms / 1000)} s`;
const counts = (record: Record<string, number>): string =>
  Object.entries(record).map(([kind, n]) => `${kind} ${n}`).join(', ');
const total = (record: Record<string, number>): number => Object.values(record).reduce((a, b) => a + b, 0);

export function formatReport(report: ChaosReport): string {
  const f = report.figures;
  const v = f.violations;
  const lines = [
    `chaos run, seed ${f.seed}: ${report.ok ? 'PASS' : `FAIL (${report.violations.length} violation(s), ${report.secretFindings.length} secret(s) found)`}`,
    `  provisionings    ${f.nodeClaims} NodeClaims, ${f.nodeClaimsDuringFaults} of them made while faults were on (${f.planned} planned: ${f.podsCreated} pods and the rest direct; ${f.reachedReady} reached Ready; ${f.deletedByPlan} deleted by the plan while provisioning); ${f.podsPendingAtEnd} pod(s) not Running at the end`,
    `  scaleway faults  ${total(f.scalewayFaults)}: ${counts(f.scalewayFaults)}`,
    `  kubelet faults   ${total(f.kubeletFaults)}: ${counts(f.kubeletFaults)}`,
    `  restarts         ${counts(f.kills)} (SIGKILL; apiserver and Temporal restarted on the same port and data); crashes restarted: ${counts(f.crashes)}`,
    `  leaked           ${v['leaked-server']} servers, ${v['leaked-volume']} volumes, ${v['leaked-token']} tokens, ${v['leaked-node']} Nodes`,
    `  duplicates       ${v['duplicate-server']}`,
    `  stuck            ${v['stuck-nodeclaim']}`,
    `  silent failures  ${v['silent-failure']} (failed workflows without a condition or Warning Event)`,
    `  secrets found    ${f.secretsFound} (searched ${f.secretsSearched})`,
    `  workflows        ${counts(f.workflows)}`,
    `  time             ${secs(f.timeMs.total)} (stack ${secs(f.timeMs.stack)}, plan ${secs(f.timeMs.plan)}, settle ${secs(f.timeMs.settle)}${f.settled ? '' : ' (did not converge)'}, checks ${secs(f.timeMs.checks)})`,
  ];
  for (const violation of report.violations) lines.push(`  VIOLATION ${violation.kind}: ${violation.subject}: ${violation.detail}`);
  for (const finding of report.secretFindings) lines.push(`  SECRET ${finding}`);
  for (const note of report.notes) lines.push(`  NOTE ${note}`);
  return lines.join('\n');
}
