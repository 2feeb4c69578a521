/** node-postgres' value serializer (lib/sql-tx.ts's pipelines map their values as a query would). */
declare module "pg/lib/utils.js" {
  const utils: { prepareValue(value: unknown): string | Buffer | null | undefined };
  export default utils;
}
