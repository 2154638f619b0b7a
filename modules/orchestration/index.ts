export * from "./definition";
export * from "./diagram";
