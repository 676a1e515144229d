import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  currentFences,
  fencesFor,
  shiftTraffic,
  type TrafficFenceDependencies,
} from "../../../functions/orchestration/traffic-fence";
import { SETTINGS } from "./fixtures";

const cloudWatch = new CloudWatchClient({ region: "us-west-2" });
const dynamoDb = new DynamoDBClient({ region: "us-west-2" });
const cloudWatchMock = mockClient(cloudWatch);
const dynamoDbMock = mockClient(dynamoDb);
const NOW = new Date("2026-12-03T12:00:00.000Z");
const deps: TrafficFenceDependencies = {
  settings: SETTINGS,
  ledger: { client: dynamoDb, tableName: SETTINGS.ledgerTableName },
  cloudWatch,
  now: () => NOW,
};

beforeEach(() => {
  cloudWatchMock.reset();
  dynamoDbMock.reset();
  dynamoDbMock.on(GetItemCommand).resolves({});
});

describe("fencesFor", () => {
  it("fences the PRIMARY record's region when traffic goes to the other", () => {
    expect(fencesFor(SETTINGS, "secondary")).toEqual({ primary: true, secondary: false });
  });

  it("fences nothing when traffic returns to the PRIMARY record's region: the other stays the SECONDARY DNS fails over to", () => {
    expect(fencesFor(SETTINGS, "primary")).toEqual({ primary: false, secondary: false });
  });

  it("follows activeRegion: with PRIMARY on the secondary, a failback fences the secondary", () => {
    const flipped = { ...SETTINGS, primaryRecordRegion: "secondary" as const };
    expect(fencesFor(flipped, "primary")).toEqual({ primary: false, secondary: true });
    expect(fencesFor(flipped, "secondary")).toEqual({ primary: false, secondary: false });
  });
});

describe("shiftTraffic", () => {
  it("stores the fences, then publishes both regions' TrafficFenced in one call", async () => {
    const result = await shiftTraffic(deps, {
      target: "secondary",
      operationId: "op-1",
      unplanned: false,
    });

    expect(result).toMatchObject({
      action: "fenced",
      changed: true,
      fences: { primary: true, secondary: false },
    });
    const stored = unmarshall(
      dynamoDbMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item ?? {},
    );
    expect(stored).toEqual({
      pk: "TRAFFIC#FENCES",
      primary: true,
      secondary: false,
      safety: [],
      operationId: "op-1",
      updatedAt: "2026-12-03T12:00:00.000Z",
    });
    const input = cloudWatchMock.commandCalls(PutMetricDataCommand)[0]?.args[0].input;
    expect(input).toEqual({
      Namespace: "ShopSmart/DR",
      MetricData: [
        {
          MetricName: "TrafficFenced",
          Dimensions: [
            { Name: "Environment", Value: "shopsmart-prod" },
            { Name: "RegionRole", Value: "primary" },
          ],
          Timestamp: NOW,
          Value: 1,
          Unit: "Count",
        },
        {
          MetricName: "TrafficFenced",
          Dimensions: [
            { Name: "Environment", Value: "shopsmart-prod" },
            { Name: "RegionRole", Value: "secondary" },
          ],
          Timestamp: NOW,
          Value: 0,
          Unit: "Count",
        },
      ],
    });
  });

  it("on a re-run writes nothing to the ledger and publishes the same values again", async () => {
    dynamoDbMock.on(GetItemCommand).resolves({
      Item: marshall({
        pk: "TRAFFIC#FENCES",
        primary: true,
        secondary: false,
        operationId: "op-1",
        updatedAt: "x",
      }),
    });

    const result = await shiftTraffic(deps, {
      target: "secondary",
      operationId: "op-1",
      unplanned: false,
    });

    expect(result).toMatchObject({ action: "already-fenced", changed: false });
    expect(dynamoDbMock.commandCalls(PutItemCommand)).toHaveLength(0);
    expect(cloudWatchMock.commandCalls(PutMetricDataCommand)).toHaveLength(1);
  });

  it("a failback clears the old primary's fence", async () => {
    dynamoDbMock.on(GetItemCommand).resolves({
      Item: marshall({
        pk: "TRAFFIC#FENCES",
        primary: true,
        secondary: false,
        operationId: "op-1",
        updatedAt: "x",
      }),
    });

    const result = await shiftTraffic(deps, {
      target: "primary",
      operationId: "op-2",
      unplanned: false,
    });

    expect(result.fences).toEqual({ primary: false, secondary: false });
    expect(
      cloudWatchMock
        .commandCalls(PutMetricDataCommand)[0]
        ?.args[0].input.MetricData?.map((datum) => datum.Value),
    ).toEqual([0, 0]);
  });
});

describe("safety and steering fences", () => {
  const stored = (fields: Record<string, unknown>) =>
    dynamoDbMock.on(GetItemCommand).resolves({
      Item: marshall({ pk: "TRAFFIC#FENCES", operationId: "op-1", updatedAt: "x", ...fields }),
    });
  const ledger = { client: dynamoDb, tableName: SETTINGS.ledgerTableName };

  it("an unplanned failover gives the old primary a safety fence", async () => {
    await shiftTraffic(deps, { target: "secondary", operationId: "op-1", unplanned: true });
    const item = unmarshall(dynamoDbMock.commandCalls(PutItemCommand)[0]?.args[0].input.Item ?? {});
    expect(item).toMatchObject({ primary: true, secondary: false, safety: ["primary"] });
  });

  it("drops a steering fence once a deploy has moved the PRIMARY record away from its region", async () => {
    // A failback while activeRegion was secondary fenced the secondary to steer traffic; then
    // activeRegion went back to primary: the secondary is DNS's failover target again.
    stored({ primary: false, secondary: true, safety: [] });
    await expect(currentFences(ledger, { primaryRecordRegion: "primary" })).resolves.toEqual({
      primary: false,
      secondary: false,
    });
    await expect(currentFences(ledger, { primaryRecordRegion: "secondary" })).resolves.toEqual({
      primary: false,
      secondary: true,
    });
  });

  it("keeps a safety fence whichever record its region holds", async () => {
    stored({ primary: true, secondary: false, safety: ["primary"] });
    await expect(currentFences(ledger, { primaryRecordRegion: "secondary" })).resolves.toEqual({
      primary: true,
      secondary: false,
    });
  });
});
