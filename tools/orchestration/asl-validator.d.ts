// asl-validator ships no type declarations: the one call the project makes.
declare module "asl-validator" {
  interface AslValidationError {
    readonly "Error code": string;
    readonly Message: string;
  }
  function validator(
    definition: object,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): { isValid: boolean; errors: AslValidationError[] };
  export = validator;
}
