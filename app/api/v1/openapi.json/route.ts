/** GET /api/v1/openapi.json: the API's OpenAPI 3.1 document (any valid token). */
import { apiRoute } from "@/lib/api/handler";
import { openApiDocument } from "@/lib/api/openapi";

export const GET = apiRoute("users:read", async ({ request }) => ({
  status: 200,
  body: openApiDocument(request.nextUrl.origin),
}));
