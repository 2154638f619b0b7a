export * from "./lake-formation";
