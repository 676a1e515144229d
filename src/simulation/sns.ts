/**
 * The SNS topic the finish step notifies through; every accepted message is recorded.
 *
 * Sources (SNS API Reference, Publish, as in the SDK model): "Subjects must be UTF-8 text with no
 * line breaks or control characters, and less than 100 characters long" (so 99 at most); Message
 * up to 256 KB; NotFound ("Topic does not exist") for a
 * topic that is not in the region called; InvalidParameter otherwise.
 */
import type { PublishInput } from "@aws-sdk/client-sns";
import type { SimulatedClock } from "./clock";
import { nextRequestId, SimulatorUnsupportedError, serviceError } from "./errors";

export interface PublishedMessage {
  readonly topicArn: string;
  readonly messageId: string;
  readonly subject: string | undefined;
  readonly message: string;
  /** Simulated time of the Publish call, epoch ms. */
  readonly at: number;
}

const MAX_MESSAGE_BYTES = 256 * 1024;

export class SnsSimulation {
  readonly published: PublishedMessage[] = [];
  private readonly topicArns: readonly string[];
  private readonly clock: SimulatedClock;

  constructor(topicArns: readonly string[], clock: SimulatedClock) {
    this.topicArns = topicArns;
    this.clock = clock;
  }

  handle(operation: string, input: Record<string, unknown>, region: string): unknown {
    if (operation !== "Publish")
      throw new SimulatorUnsupportedError(`SNS ${operation} is not modelled`);
    return this.publish(input as unknown as PublishInput, region);
  }

  private publish(input: PublishInput, region: string) {
    const topicArn = input.TopicArn;
    if (!topicArn || !this.topicArns.includes(topicArn) || topicArn.split(":")[3] !== region) {
      throw serviceError("sns", "NotFoundException", "Topic does not exist", {
        httpStatusCode: 404,
      });
    }
    if (input.Subject !== undefined && !isValidSubject(input.Subject)) {
      throw invalidParameter("Invalid parameter: Subject");
    }
    if (!input.Message) throw invalidParameter("Invalid parameter: Empty message");
    if (Buffer.byteLength(input.Message) > MAX_MESSAGE_BYTES) {
      throw invalidParameter("Invalid parameter: Message too long");
    }
    const messageId = nextRequestId();
    this.published.push({
      topicArn,
      messageId,
      subject: input.Subject,
      message: input.Message,
      at: this.clock.now(),
    });
    return { MessageId: messageId };
  }
}

function isValidSubject(subject: string): boolean {
  return subject.length > 0 && [...subject].length < 100 && !/\p{Cc}/u.test(subject);
}

function invalidParameter(message: string): Error {
  return serviceError("sns", "InvalidParameterException", message);
}
