// Kubernetes resource quantities as numbers, and back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatBytesKi, formatCpu, parseQuantity } from '../../kube/quantity.ts';

/** Equal to within floating-point rounding of the decimal suffixes. */
function near(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * 1e-12, `${actual} ≈ ${expected}`);
}

describe('parseQuantity', () => {
  it('reads plain numbers and millis', () => {
    assert.equal(parseQuantity('2'), 2);
    assert.equal(parseQuantity(3), 3);
    assert.equal(parseQuantity('1.5'), 1.5);
    assert.equal(parseQuantity('.5'), 0.5);
    assert.equal(parseQuantity('+4'), 4);
    assert.equal(parseQuantity('-4'), -4);
    assert.equal(parseQuantity(' 8 '), 8);
    near(parseQuantity('500m'), 0.5);
    near(parseQuantity('7910m'), 7.91);
    near(parseQuantity('250u'), 250e-6);
    near(parseQuantity('3n'), 3e-9);
  });

  it('reads binary suffixes Ki … Ei as powers of 1024', () => {
    const suffixes = ['Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
    suffixes.forEach((suffix, i) => assert.equal(parseQuantity(`3${suffix}`), 3 * 1024 ** (i + 1), suffix));
    assert.equal(parseQuantity('1.5Gi'), 1.5 * 1024 ** 3);
  });

  it('reads decimal suffixes k … E as powers of 1000', () => {
    const suffixes = ['k', 'M', 'G', 'T', 'P', 'E'];
    suffixes.forEach((suffix, i) => assert.equal(parseQuantity(`2${suffix}`), 2 * 1000 ** (i + 1), suffix));
  });

  it('reads exponents, and tells 1E from 1E3', () => {
    assert.equal(parseQuantity('2e3'), 2000);
    assert.equal(parseQuantity('2E3'), 2000);
    assert.equal(parseQuantity('5e+2'), 500);
    near(parseQuantity('5e-1'), 0.5);
    assert.equal(parseQuantity('1E'), 1e18, 'a bare E is exa');
  });

  it('throws on what Kubernetes would not accept, naming the input', () => {
    for (const bad of ['', 'abc', '1.2.3', '1KB', '1K', '1 Gi', 'Gi', '1Gi2', '--1', '1e', '1mi', 'e3']) {
      assert.throws(() => parseQuantity(bad), (err: Error) => err.message.includes(`"${bad}"`), JSON.stringify(bad));
    }
  });
});

describe('formatCpu', () => {
  it('writes whole cores bare and the rest in millicores', () => {
    assert.equal(formatCpu(8), '8');
    assert.equal(formatCpu(0), '0');
    assert.equal(formatCpu(0.5), '500m');
    assert.equal(formatCpu(8 - 0.09), '7910m');
    assert.equal(formatCpu(130 - 0.395), '129605m');
    assert.equal(parseQuantity(formatCpu(1.25)), 1.25);
  });
});

describe('formatBytesKi', () => {
  it('writes bytes in whole Ki, rounding down', () => {
    assert.equal(formatBytesKi(0), '0Ki');
    assert.equal(formatBytesKi(1024), '1Ki');
    assert.equal(formatBytesKi(2047), '1Ki');
    assert.equal(formatBytesKi(48 * 2 ** 30), `${48 * 1024 * 1024}Ki`);
    assert.equal(parseQuantity(formatBytesKi(16 * 2 ** 30)), 16 * 2 ** 30);
  });
});
