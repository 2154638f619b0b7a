export * from "./arns";
export * from "./ci-part-grants";
export * from "./ci-roles";
export * from "./lake-access";
export * from "./lake-role";
export * from "./policy";
