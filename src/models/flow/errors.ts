/** Typed errors of the flow model (load-time mapping problems and bad call arguments). */
export class FlowWeightError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class FlowInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
