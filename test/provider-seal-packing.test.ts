/**
 * The seal helper's packed wire format (src/mls/crypto/sealPacking.ts): random batches of jobs
 * and outcomes come back exactly as they went in (shared and distinct contexts, with and
 * without AAD, empty plaintexts, failed seals), and damaged buffers are refused.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";
import { packJobs, packOutcomes, unpackJobs, unpackOutcomes, type RemoteSealJob, type SealOutcome } from "../src/mls/crypto/sealPacking.js";

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const plain = (job: RemoteSealJob) => ({ publicRaw: [...job.publicRaw], plaintext: [...job.plaintext], context: [...job.context], aad: job.aad === undefined ? undefined : [...job.aad] });
const plainOutcome = (o: SealOutcome) => ("error" in o ? { error: o.error } : { enc: [...o.enc], ct: [...o.ct] });

test("random job batches survive packing: keys, plaintexts, contexts and AADs in order", () => {
  for (let round = 0; round < 50; round++) {
    const contexts = Array.from({ length: 1 + randomInt(3) }, () => bytes(randomInt(80)));
    const aads = [bytes(7), bytes(0)];
    const jobs: RemoteSealJob[] = Array.from({ length: randomInt(40) }, () => {
      const aad = randomInt(3);
      return {
        publicRaw: bytes(32),
        plaintext: bytes(randomInt(70)),
        context: randomInt(4) === 0 ? bytes(randomInt(50)) : contexts[randomInt(contexts.length)]!,
        ...(aad === 2 ? {} : { aad: aads[aad]! }),
      };
    });
    const packed = packJobs(jobs);
    assert.ok(packed.blobs.length <= jobs.length + aads.length, "shared contexts travel once");
    const back = unpackJobs(structuredClone(packed));
    assert.deepEqual(back.map(plain), jobs.map(plain));
  }
});

test("random outcome batches survive packing, failed seals with their messages", () => {
  for (let round = 0; round < 50; round++) {
    const outcomes: SealOutcome[] = Array.from({ length: randomInt(40) }, (_, i) => (randomInt(5) === 0 ? { error: `bad key ${i}` } : { enc: bytes(32), ct: bytes(randomInt(90)) }));
    assert.deepEqual(unpackOutcomes(structuredClone(packOutcomes(outcomes))).map(plainOutcome), outcomes.map(plainOutcome));
  }
});

test("damaged batches and answers are refused, never read past their end", () => {
  const job = { publicRaw: bytes(32), plaintext: bytes(10), context: bytes(5) };
  const packed = packJobs([job, job]);
  assert.throws(() => unpackJobs({ ...packed, bytes: packed.bytes.subarray(0, packed.bytes.byteLength - 1) }), RangeError);
  assert.throws(() => unpackJobs({ ...packed, count: 3 }), RangeError);
  assert.throws(() => unpackJobs({ ...packed, count: 1 }), RangeError);
  assert.throws(() => unpackJobs({ ...packed, blobs: [] }), RangeError);
  assert.throws(() => packJobs([{ ...job, publicRaw: bytes(31) }]), RangeError);
  const answer = packOutcomes([{ enc: bytes(32), ct: bytes(20) }]);
  assert.throws(() => unpackOutcomes({ ...answer, bytes: answer.bytes.subarray(0, 40) }), RangeError);
  assert.throws(() => unpackOutcomes({ ...answer, count: 0 }), RangeError);
  assert.throws(() => unpackOutcomes({ ...answer, count: 2 }), RangeError);
});
