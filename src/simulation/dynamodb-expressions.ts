/**
 * The DynamoDB expressions the operation ledger sends (functions/orchestration/ledger.ts), parsed
 * and evaluated as the service does; every other shape is refused with a
 * {@link SimulatorUnsupportedError} that names it, so a new expression in the ledger fails its
 * tests loudly until the simulation models it (issue 15: a maintained implementation, dynalite,
 * moved simulated time while its loopback calls were in flight; see dynamodb.ts).
 *
 * - Condition: terms joined by `AND`, each `attribute_exists(path)`, `attribute_not_exists(path)`
 *   or `path = :value` ("Condition and filter expressions, operators, and functions",
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html).
 * - Update: `SET path = :value, ...` ("Using update expressions",
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html).
 * - A path is a top-level attribute: a name, or a `#name` placeholder.
 *
 * Request validation stays where it catches ledger mistakes before AWS would: a reserved word used
 * as a bare attribute name, a placeholder that is not defined, and ExpressionAttributeNames/Values
 * that no expression uses are ValidationExceptions with the service's messages.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { SimulatorUnsupportedError, serviceError } from "./errors";

export type Item = Record<string, AttributeValue>;

/**
 * The words DynamoDB refuses as bare attribute names: "Don't use any of these words as attribute
 * names in expressions. This list isn't case-sensitive."
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ReservedWords.html).
 */
const RESERVED_WORDS = new Set(
  `ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE ARE
ARRAY AS ASC ASCII ASENSITIVE ASSERTION ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH AUTHORIZATION
AUTHORIZE AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN BETWEEN BIGINT BINARY BIT BLOB BLOCK BOOLEAN
BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED CALLING CAPACITY CASCADE CASCADED CASE CAST CATALOG
CHAR CHARACTER CHECK CLASS CLOB CLOSE CLUSTER CLUSTERED CLUSTERING CLUSTERS COALESCE COLLATE
COLLATION COLLECTION COLUMN COLUMNS COMBINE COMMENT COMMIT COMPACT COMPILE COMPRESS CONDITION
CONFLICT CONNECT CONNECTION CONSISTENCY CONSISTENT CONSTRAINT CONSTRAINTS CONSTRUCTOR CONSUMED
CONTINUE CONVERT COPY CORRESPONDING COUNT COUNTER CREATE CROSS CUBE CURRENT CURSOR CYCLE DATA
DATABASE DATE DATETIME DAY DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DEFINE
DEFINED DEFINITION DELETE DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH DETERMINISTIC
DIAGNOSTICS DIRECTORIES DISABLE DISCONNECT DISTINCT DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION
DYNAMIC EACH ELEMENT ELSE ELSEIF EMPTY ENABLE END EQUAL EQUALS ERROR ESCAPE ESCAPED EVAL EVALUATE
EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE EXEC EXECUTE EXISTS EXIT EXPLAIN EXPLODE EXPORT
EXPRESSION EXTENDED EXTERNAL EXTRACT FAIL FALSE FAMILY FETCH FIELDS FILE FILTER FILTERING FINAL
FINISH FIRST FIXED FLATTERN FLOAT FOR FORCE FOREIGN FORMAT FORWARD FOUND FREE FROM FULL FUNCTION
FUNCTIONS GENERAL GENERATE GET GLOB GLOBAL GO GOTO GRANT GREATER GROUP GROUPING HANDLER HASH HAVE
HAVING HEAP HIDDEN HOLD HOUR IDENTIFIED IDENTITY IF IGNORE IMMEDIATE IMPORT IN INCLUDING INCLUSIVE
INCREMENT INCREMENTAL INDEX INDEXED INDEXES INDICATOR INFINITE INITIALLY INLINE INNER INNTER INOUT
INPUT INSENSITIVE INSERT INSTEAD INT INTEGER INTERSECT INTERVAL INTO INVALIDATE IS ISOLATION ITEM
ITEMS ITERATE JOIN KEY KEYS LAG LANGUAGE LARGE LAST LATERAL LEAD LEADING LEAVE LEFT LENGTH LESS
LEVEL LIKE LIMIT LIMITED LINES LIST LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCATOR LOCK LOCKS
LOG LOGED LONG LOOP LOWER MAP MATCH MATERIALIZED MAX MAXLEN MEMBER MERGE METHOD METRICS MIN MINUS
MINUTE MISSING MOD MODE MODIFIES MODIFY MODULE MONTH MULTI MULTISET NAME NAMES NATIONAL NATURAL
NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC OBJECT OF OFFLINE OFFSET OLD ON ONLINE
ONLY OPAQUE OPEN OPERATOR OPTION OR ORDER ORDINALITY OTHER OTHERS OUT OUTER OUTPUT OVER OVERLAPS
OVERRIDE OWNER PAD PARALLEL PARAMETER PARAMETERS PARTIAL PARTITION PARTITIONED PARTITIONS PATH
PERCENT PERCENTILE PERMISSION PERMISSIONS PIPE PIPELINED PLAN POOL POSITION PRECISION PREPARE
PRESERVE PRIMARY PRIOR PRIVATE PRIVILEGES PROCEDURE PROCESSED PROJECT PROJECTION PROPERTY
PROVISIONING PUBLIC PUT QUERY QUIT QUORUM RAISE RANDOM RANGE RANK RAW READ READS REAL REBUILD
RECORD RECURSIVE REDUCE REF REFERENCE REFERENCES REFERENCING REGEXP REGION REINDEX RELATIVE RELEASE
REMAINDER RENAME REPEAT REPLACE REQUEST RESET RESIGNAL RESOURCE RESPONSE RESTORE RESTRICT RESULT
RETURN RETURNING RETURNS REVERSE REVOKE RIGHT ROLE ROLES ROLLBACK ROLLUP ROUTINE ROW ROWS RULE
RULES SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE SCROLL SEARCH SECOND SECTION SEGMENT
SEGMENTS SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE SERIALIZABLE SESSION SET SETS SHARD SHARE
SHARED SHORT SHOW SIGNAL SIMILAR SIZE SKEWED SMALLINT SNAPSHOT SOME SOURCE SPACE SPACES SPARSE
SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR SQLEXCEPTION SQLSTATE SQLWARNING START STATE
STATIC STATUS STORAGE STORE STORED STREAM STRING STRUCT STYLE SUB SUBMULTISET SUBPARTITION
SUBSTRING SUBTYPE SUM SUPER SYMMETRIC SYNONYM SYSTEM TABLE TABLESAMPLE TEMP TEMPORARY TERMINATED
TEXT THAN THEN THROUGHPUT TIME TIMESTAMP TIMEZONE TINYINT TO TOKEN TOTAL TOUCH TRAILING TRANSACTION
TRANSFORM TRANSLATE TRANSLATION TREAT TRIGGER TRIM TRUE TRUNCATE TTL TUPLE TYPE UNDER UNDO UNION
UNIQUE UNIT UNKNOWN UNLOGGED UNNEST UNPROCESSED UNSIGNED UNTIL UPDATE UPPER URL USAGE USE USER
USERS USING UUID VACUUM VALUE VALUED VALUES VARCHAR VARIABLE VARIANCE VARINT VARYING VIEW VIEWS
VIRTUAL VOID WAIT WHEN WHENEVER WHERE WHILE WINDOW WITH WITHIN WITHOUT WORK WRAPPED WRITE YEAR
ZONE`.split(/\s+/),
);

/** A request the service refuses (HTTP 400). */
export function validationException(message: string): Error {
  return serviceError("dynamodb", "ValidationException", message);
}

/**
 * Placeholders must be defined, and every defined one used: "An expression attribute name must
 * begin with a pound sign (#)"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeNames.html),
 * "An expression attribute value must begin with a colon (:)"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ExpressionAttributeValues.html);
 * the messages are the service's.
 */
export class ExpressionContext {
  private readonly usedNames = new Set<string>();
  private readonly usedValues = new Set<string>();
  private readonly names: Record<string, string>;
  private readonly values: Record<string, AttributeValue>;

  constructor(
    names: Record<string, string> | undefined,
    values: Record<string, AttributeValue> | undefined,
  ) {
    this.names = names ?? {};
    this.values = values ?? {};
  }

  name(placeholder: string, expressionKind: string): string {
    const resolved = this.names[placeholder];
    if (resolved === undefined) {
      throw validationException(
        `Invalid ${expressionKind}: An expression attribute name used in the document path is not defined; attribute name: ${placeholder}`,
      );
    }
    this.usedNames.add(placeholder);
    return resolved;
  }

  value(placeholder: string, expressionKind: string): AttributeValue {
    const resolved = this.values[placeholder];
    if (resolved === undefined) {
      throw validationException(
        `Invalid ${expressionKind}: An expression attribute value used in expression is not defined; attribute value: ${placeholder}`,
      );
    }
    this.usedValues.add(placeholder);
    return resolved;
  }

  /** Throws the service's error when a name or value placeholder was defined but never used. */
  assertAllUsed(): void {
    const unusedValues = Object.keys(this.values).filter((key) => !this.usedValues.has(key));
    if (unusedValues.length > 0) {
      throw validationException(
        `Value provided in ExpressionAttributeValues unused in expressions: keys: {${unusedValues.join(", ")}}`,
      );
    }
    const unusedNames = Object.keys(this.names).filter((key) => !this.usedNames.has(key));
    if (unusedNames.length > 0) {
      throw validationException(
        `Value provided in ExpressionAttributeNames unused in expressions: keys: {${unusedNames.join(", ")}}`,
      );
    }
  }
}

/** One term of a condition the ledger sends. */
export type ConditionTerm =
  | { readonly kind: "attribute_exists" | "attribute_not_exists"; readonly name: string }
  | { readonly kind: "equals"; readonly name: string; readonly value: AttributeValue };

/** One `path = :value` of a SET clause. */
export interface Assignment {
  readonly name: string;
  readonly value: AttributeValue;
}

const PATH = "#[A-Za-z0-9_]+|[A-Za-z][A-Za-z0-9_]*";
const EXISTS_TERM = new RegExp(`^(attribute_exists|attribute_not_exists)\\(\\s*(${PATH})\\s*\\)$`);
const EQUALS_TERM = new RegExp(`^(${PATH})\\s*=\\s*(:[A-Za-z0-9_]+)$`);

/** Parses `term AND term ...`; `kind` names the parameter in messages. */
export function parseCondition(
  expression: string,
  context: ExpressionContext,
  kind = "ConditionExpression",
): ConditionTerm[] {
  return expression
    .trim()
    .split(/\s+AND\s+/i)
    .map((term) => {
      const exists = EXISTS_TERM.exec(term);
      if (exists) {
        const name = attributeName(exists[2] as string, context, kind);
        return { kind: exists[1] as "attribute_exists" | "attribute_not_exists", name };
      }
      const equals = EQUALS_TERM.exec(term);
      if (!equals) throw unsupported(kind, expression);
      const name = attributeName(equals[1] as string, context, kind);
      return { kind: "equals", name, value: context.value(equals[2] as string, kind) };
    });
}

/** Parses `SET path = :value, ...`. */
export function parseUpdate(expression: string, context: ExpressionContext): Assignment[] {
  const kind = "UpdateExpression";
  const set = /^\s*SET\s+(.+)$/i.exec(expression);
  if (!set) throw unsupported(kind, expression);
  return (set[1] as string).split(",").map((assignment) => {
    const equals = EQUALS_TERM.exec(assignment.trim());
    if (!equals) throw unsupported(kind, expression);
    return {
      name: attributeName(equals[1] as string, context, kind),
      value: context.value(equals[2] as string, kind),
    };
  });
}

/**
 * Whether `item` (undefined: no item under the key) satisfies every term. attribute_exists and
 * attribute_not_exists test whether the item has the attribute; `=` with a missing attribute is
 * false (OperatorsAndFunctions page above).
 */
export function evaluateCondition(
  terms: readonly ConditionTerm[],
  item: Item | undefined,
): boolean {
  return terms.every((term) => {
    const current = item?.[term.name];
    if (term.kind !== "equals")
      return (current !== undefined) === (term.kind === "attribute_exists");
    return current !== undefined && scalarEquals(current, term.value);
  });
}

type Scalars = Partial<Record<"S" | "N" | "BOOL", unknown>>;

/** `=` on the scalar types the ledger compares (S, N, BOOL); N compares as a number. */
function scalarEquals(current: AttributeValue, expected: AttributeValue): boolean {
  const [type] = Object.keys(expected);
  if (type !== "S" && type !== "N" && type !== "BOOL") {
    throw new SimulatorUnsupportedError(`DynamoDB "=" on a ${type} value is not modelled`);
  }
  const left = (current as Scalars)[type];
  const right = (expected as Scalars)[type];
  if (left === undefined) return false;
  return type === "N" ? Number(left) === Number(right) : left === right;
}

function attributeName(path: string, context: ExpressionContext, kind: string): string {
  if (path.startsWith("#")) return context.name(path, kind);
  if (RESERVED_WORDS.has(path.toUpperCase())) {
    throw validationException(
      `Invalid ${kind}: Attribute name is a reserved keyword; reserved keyword: ${path}`,
    );
  }
  return path;
}

function unsupported(kind: string, expression: string): SimulatorUnsupportedError {
  return new SimulatorUnsupportedError(
    `DynamoDB ${kind} "${expression}" is not modelled: the simulation evaluates only the ledger's shapes ` +
      "(conditions: attribute_exists(path), attribute_not_exists(path), path = :value, joined by AND; " +
      "updates: SET path = :value, ...; paths: top-level names or #placeholders)",
  );
}
