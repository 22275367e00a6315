export { TranscodeError, type TranscodeConstraint } from "./errors.js";
export { matchPath, parsePathTemplate, type PathTemplate, type TemplateSegment, type TemplateVariable } from "./path-template.js";
export {
  buildRouteTable,
  compareSpecificity,
  httpBindings,
  type HttpBinding,
  type Route,
  type RouteMatch,
  type RouteTable,
} from "./routes.js";
export { buildRequest, parseJsonBody } from "./request.js";
export { renderResponse } from "./response.js";
export { queryParameterChains, isQueryLeaf } from "./query.js";
export { findField, resolveFieldPath } from "./fields.js";
