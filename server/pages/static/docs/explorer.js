// The API explorer: Swagger UI (vendored) over the app's own /openapi.json. "Try it out" sends
// real requests to this server; paste a bearer token into "Authorize" for the guarded calls.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#explorer",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: true,
  displayRequestDuration: true,
  validatorUrl: null,
});
