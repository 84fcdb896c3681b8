export { Mt19937 } from './mt19937.js';
export { TorchGenerator } from './torch-generator.js';
export type { NormalKernel, TorchGeneratorOptions } from './torch-generator.js';
export { fmaF32, logF32Avx, sincosF32Avx } from './f32-math.js';
export { multinomial, multinomialCdf, multinomialExponential, MultinomialError } from './multinomial.js';
export type { MultinomialAlgorithm } from './multinomial.js';
