// No-op handlers for `tqd work` in the peer harness (bench/peer-adapter.mjs, TQD_WORKER=process).
export default { noop: async () => {} };
