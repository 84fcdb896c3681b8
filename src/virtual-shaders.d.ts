/** Provided by scripts/build.mjs: every shaders/*.wgsl as name → source. */
declare module 'virtual:shaders' {
  const shaders: Record<string, string>;
  export default shaders;
}
