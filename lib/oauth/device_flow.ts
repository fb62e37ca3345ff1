import * as oauth from "oauth4webapi";
import { oneLine, VeilError } from "../errors.ts";
import { providerFetch, type Quirks, requestOptions } from "../credentials/grant.ts";
import type { OutboundFetch } from "../proxy/outbound.ts";

export interface DeviceFlowOptions {
  as: oauth.AuthorizationServer;
  clientId: string;
  scope?: string;
  fetch: OutboundFetch;
  quirks?: Quirks;
  /** Who is asked to sign in, for the prompt: "xAI", "GitHub". */
  provider: string;
}

/**
 * RFC 8628: asks for a device code, shows the user code on stderr, and polls the token
 * endpoint honouring interval and slow_down until success, denial or expiry.
 */
export async function deviceFlow(o: DeviceFlowOptions): Promise<oauth.TokenEndpointResponse> {
  const client: oauth.Client = { client_id: o.clientId };
  const endpoint = o.as.device_authorization_endpoint!;
  const options = requestOptions(endpoint, providerFetch(o.fetch, o.quirks ?? {}));
  let device: oauth.DeviceAuthorizationResponse;
  try {
    const params: Record<string, string> = o.scope ? { scope: o.scope } : {};
    const res = await oauth.deviceAuthorizationRequest(o.as, client, oauth.None(), params, options);
    device = await oauth.processDeviceAuthorizationResponse(o.as, client, res);
  } catch (err) {
    throw new VeilError(`${o.provider} device authorization failed: ${describe(err)}`);
  }
  const where = device.verification_uri_complete ?? device.verification_uri;
  console.error(`To sign in to ${o.provider}, open ${where} and enter the code ${device.user_code}`);
  let interval = (device.interval ?? 5) * 1000;
  const deadline = Date.now() + device.expires_in * 1000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, interval));
    try {
      const pollOptions = requestOptions(o.as.token_endpoint!, providerFetch(o.fetch, o.quirks ?? {}));
      const res = await oauth.deviceCodeGrantRequest(
        o.as,
        client,
        oauth.None(),
        device.device_code,
        pollOptions,
      );
      return await oauth.processDeviceCodeResponse(o.as, client, res);
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError) {
        if (err.error === "authorization_pending") continue;
        if (err.error === "slow_down") {
          interval += 5000;
          continue;
        }
        if (err.error === "expired_token") {
          throw new VeilError(`${o.provider} login expired before it was approved`);
        }
        if (err.error === "access_denied") throw new VeilError(`${o.provider} login was denied`);
      }
      throw new VeilError(`${o.provider} login failed: ${describe(err)}`);
    }
  }
  throw new VeilError(`${o.provider} login expired before it was approved`);
}

export function describe(err: unknown): string {
  if (err instanceof oauth.ResponseBodyError) {
    return err.error_description ? `${err.error}: ${err.error_description}` : err.error;
  }
  if (err instanceof oauth.AuthorizationResponseError) {
    return err.error_description ? `${err.error}: ${err.error_description}` : err.error;
  }
  return oneLine(err);
}
