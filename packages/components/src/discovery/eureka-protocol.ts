/**
 * What instances and clients send to an {@link EurekaServer} (the REST calls of Eureka's client:
 * `POST /apps/{app}`, `PUT /apps/{app}/{id}`, `DELETE /apps/{app}/{id}`, `GET /apps/delta`). Answers:
 * `register` ok(true); `renew` and `cancel` ok(true), or ok(false) when the server holds no lease (HTTP
 * 404, after which an instance registers again); `fetch` ok(the app's instance addresses).
 *
 * @example
 * ```ts
 * endpoint.callThen('eureka', { op: 'fetch', app: 'orders' }, { timeout: 8000 }, (res) => {
 *   if (res.ok) sim.log((res.value as readonly string[]).join(' '));
 * });
 * ```
 */
export type EurekaRequest =
  | {
      readonly op: 'register';
      readonly app: string;
      readonly id: string;
      /** Where clients send requests (the instance's node). */
      readonly address: string;
      /** The lease duration the instance asks for, ms. */
      readonly leaseDuration: number;
    }
  | { readonly op: 'renew'; readonly app: string; readonly id: string }
  | { readonly op: 'cancel'; readonly app: string; readonly id: string }
  | { readonly op: 'fetch'; readonly app: string };
