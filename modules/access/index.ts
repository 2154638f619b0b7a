export * from "./arns";
export * from "./lake-access";
export * from "./lake-role";
export * from "./policy";
