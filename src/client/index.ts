export { ChatClient, ChatError } from "./chatClient.js";
export type { ConnectOptions, ErrorCode, Frame, PushEvent, RequestArgs, RequestEvent, WebSocketConstructor, WebSocketLike } from "./chatClient.js";
export type * from "../protocol/wire.generated.js";
