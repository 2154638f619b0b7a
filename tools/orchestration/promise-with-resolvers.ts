// aws-local-stepfunctions 3 calls Promise.withResolvers (Node 22+); the project still supports Node 20, where this
// stand-in of the standard method is installed before the library loads. Nothing else in the project uses it.
const P = Promise as unknown as { withResolvers?: unknown };
if (typeof P.withResolvers !== "function") {
  P.withResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((ok, fail) => {
      resolve = ok;
      reject = fail;
    });
    return { promise, resolve, reject };
  };
}
