/** Typed errors of the GPU layer. Messages say what was needed, what was found, and what to do. */

export class GpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** No WebGPU implementation or no adapter at all. */
export class NoAdapterError extends GpuError {}

/** The adapter exists but one of its limits is below what the runtime needs. */
export class AdapterLimitError extends GpuError {
  constructor(
    readonly limit: string,
    readonly needed: number,
    readonly available: number,
  ) {
    super(`adapter limit ${limit} is ${available}, but ${needed} is needed`);
  }
}

/** The device was lost (driver reset, destroy(), out of memory): pending work is rejected with this. */
export class DeviceLostError extends GpuError {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`GPU device lost (${reason}): ${detail || 'no message'}; create a new runtime to continue`);
  }
}

/** A WGSL source failed to compile or a pipeline could not be created. */
export class ShaderError extends GpuError {}

/** A kernel wrapper received tensors of the wrong shape or dtype. */
export class ShapeMismatchError extends GpuError {}
