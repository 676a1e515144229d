/**
 * DynamoDB condition and update expressions, parsed and evaluated the way the service does,
 * including its request validation: reserved words used as attribute names, placeholders that
 * are not defined, and ExpressionAttributeNames/Values that no expression uses are
 * ValidationExceptions with the service's messages (DynamoDB Developer Guide, "Condition
 * expressions", "Update expressions", "Reserved words in DynamoDB"; messages as returned by the
 * service and reproduced by dynalite).
 *
 * Condition expressions: comparisons (= <> < <= > >=), BETWEEN, IN, AND/OR/NOT, parentheses,
 * attribute_exists, attribute_not_exists, attribute_type, begins_with, contains, size. A missing
 * attribute compares unequal (`<>` is true, every other comparison false).
 * Update expressions: SET (values, `+`/`-`, if_not_exists, list_append), REMOVE, ADD (numbers
 * and sets), DELETE (sets). Paths may be nested (`a.b[0]`).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { SimulatorUnsupportedError, serviceError } from "./errors";

export type Item = Record<string, AttributeValue>;

/** The words DynamoDB refuses as bare attribute names (Developer Guide, "Reserved words"). */
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

export function validationException(message: string): Error {
  return serviceError("dynamodb", "ValidationException", message);
}

// ---------------------------------------------------------------------------------------------
// Placeholders shared by the expressions of one request

/** The ExpressionAttributeNames/Values of one request, tracking which ones were used. */
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

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenKind = "name" | "value" | "ident" | "number" | "punct" | "end";
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

function tokenize(expression: string, expressionKind: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s+|(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|([0-9]+)|(<>|<=|>=|[=<>()[\],.+-])/y;
  let index = 0;
  while (index < expression.length) {
    pattern.lastIndex = index;
    const match = pattern.exec(expression);
    if (!match) {
      throw validationException(
        `Invalid ${expressionKind}: Syntax error; token: "${expression[index]}", near: "${expression.slice(Math.max(0, index - 5), index + 5)}"`,
      );
    }
    index = pattern.lastIndex;
    if (match[1]) tokens.push({ kind: "name", text: match[1] });
    else if (match[2]) tokens.push({ kind: "value", text: match[2] });
    else if (match[3]) tokens.push({ kind: "ident", text: match[3] });
    else if (match[4]) tokens.push({ kind: "number", text: match[4] });
    else if (match[5]) tokens.push({ kind: "punct", text: match[5] });
  }
  tokens.push({ kind: "end", text: "<EOF>" });
  return tokens;
}

/** A document path: attribute names and list indexes. */
export type Path = readonly (string | number)[];

type Operand =
  | { readonly kind: "path"; readonly path: Path }
  | { readonly kind: "value"; readonly value: AttributeValue }
  | { readonly kind: "size"; readonly path: Path };

export type Condition =
  | { readonly kind: "and" | "or"; readonly left: Condition; readonly right: Condition }
  | { readonly kind: "not"; readonly operand: Condition }
  | {
      readonly kind: "compare";
      readonly op: string;
      readonly left: Operand;
      readonly right: Operand;
    }
  | {
      readonly kind: "between";
      readonly operand: Operand;
      readonly low: Operand;
      readonly high: Operand;
    }
  | { readonly kind: "in"; readonly operand: Operand; readonly list: readonly Operand[] }
  | { readonly kind: "function"; readonly name: string; readonly args: readonly Operand[] };

type SetValue =
  | { readonly kind: "operand"; readonly operand: Operand }
  | { readonly kind: "if_not_exists"; readonly path: Path; readonly fallback: SetValue }
  | { readonly kind: "list_append"; readonly first: SetValue; readonly second: SetValue }
  | {
      readonly kind: "arithmetic";
      readonly op: "+" | "-";
      readonly left: SetValue;
      readonly right: SetValue;
    };

export interface UpdateActions {
  readonly set: readonly { readonly path: Path; readonly value: SetValue }[];
  readonly remove: readonly Path[];
  readonly add: readonly { readonly path: Path; readonly value: AttributeValue }[];
  readonly delete: readonly { readonly path: Path; readonly value: AttributeValue }[];
}

const KEYWORDS = new Set(["AND", "OR", "NOT", "BETWEEN", "IN"]);
const CONDITION_FUNCTIONS = new Set([
  "attribute_exists",
  "attribute_not_exists",
  "attribute_type",
  "begins_with",
  "contains",
]);

class Parser {
  private position = 0;
  private readonly tokens: Token[];
  private readonly context: ExpressionContext;
  private readonly kind: string;

  constructor(expression: string, context: ExpressionContext, kind: string) {
    this.tokens = tokenize(expression, kind);
    this.context = context;
    this.kind = kind;
  }

  // Conditions ------------------------------------------------------------------------------

  parseCondition(): Condition {
    const condition = this.or();
    this.expectEnd();
    return condition;
  }

  private or(): Condition {
    let left = this.and();
    while (this.isKeyword("OR")) {
      this.position += 1;
      left = { kind: "or", left, right: this.and() };
    }
    return left;
  }

  private and(): Condition {
    let left = this.not();
    while (this.isKeyword("AND")) {
      this.position += 1;
      left = { kind: "and", left, right: this.not() };
    }
    return left;
  }

  private not(): Condition {
    if (this.isKeyword("NOT")) {
      this.position += 1;
      return { kind: "not", operand: this.not() };
    }
    return this.primary();
  }

  private primary(): Condition {
    const token = this.peek();
    if (token.text === "(" && this.parenthesizedCondition()) {
      this.position += 1;
      const inner = this.or();
      this.expect(")");
      return inner;
    }
    if (
      token.kind === "ident" &&
      CONDITION_FUNCTIONS.has(token.text) &&
      this.peek(1).text === "("
    ) {
      this.position += 2;
      const args = this.operandList();
      this.expect(")");
      this.checkFunction(token.text, args);
      return { kind: "function", name: token.text, args };
    }
    const left = this.operand();
    const next = this.peek();
    if (next.kind === "punct" && ["=", "<>", "<", "<=", ">", ">="].includes(next.text)) {
      this.position += 1;
      return { kind: "compare", op: next.text, left, right: this.operand() };
    }
    if (this.isKeyword("BETWEEN")) {
      this.position += 1;
      const low = this.operand();
      if (!this.isKeyword("AND")) this.syntaxError();
      this.position += 1;
      return { kind: "between", operand: left, low, high: this.operand() };
    }
    if (this.isKeyword("IN")) {
      this.position += 1;
      this.expect("(");
      const list = this.operandList();
      this.expect(")");
      return { kind: "in", operand: left, list };
    }
    return this.syntaxError();
  }

  /** Whether the `(` at the cursor opens a condition (vs. a parenthesized operand). */
  private parenthesizedCondition(): boolean {
    let depth = 0;
    for (let index = this.position; index < this.tokens.length; index += 1) {
      const token = this.tokens[index] as Token;
      if (token.text === "(") depth += 1;
      else if (token.text === ")") {
        depth -= 1;
        if (depth === 0) return true;
      } else if (depth === 1) {
        if (token.kind === "punct" && ["=", "<>", "<", "<=", ">", ">="].includes(token.text))
          return true;
        if (
          token.kind === "ident" &&
          (KEYWORDS.has(token.text.toUpperCase()) || CONDITION_FUNCTIONS.has(token.text))
        ) {
          return true;
        }
      }
    }
    return false;
  }

  private operandList(): Operand[] {
    const operands = [this.operand()];
    while (this.peek().text === ",") {
      this.position += 1;
      operands.push(this.operand());
    }
    return operands;
  }

  private operand(): Operand {
    const token = this.peek();
    if (token.text === "(") {
      this.position += 1;
      const inner = this.operand();
      this.expect(")");
      return inner;
    }
    if (token.kind === "value") {
      this.position += 1;
      return { kind: "value", value: this.context.value(token.text, this.kind) };
    }
    if (token.kind === "ident" && token.text === "size" && this.peek(1).text === "(") {
      this.position += 2;
      const path = this.path();
      this.expect(")");
      return { kind: "size", path };
    }
    return { kind: "path", path: this.path() };
  }

  private checkFunction(name: string, args: readonly Operand[]): void {
    const arity: Record<string, number> = {
      attribute_exists: 1,
      attribute_not_exists: 1,
      attribute_type: 2,
      begins_with: 2,
      contains: 2,
    };
    if (args.length !== arity[name]) {
      throw validationException(
        `Invalid ${this.kind}: Incorrect number of operands for operator or function; operator or function: ${name}, number of operands: ${args.length}`,
      );
    }
    if (
      (name === "attribute_exists" || name === "attribute_not_exists") &&
      args[0]?.kind !== "path"
    ) {
      throw validationException(
        `Invalid ${this.kind}: Operator or function requires a document path; operator or function: ${name}`,
      );
    }
  }

  // Updates ---------------------------------------------------------------------------------

  parseUpdate(): UpdateActions {
    const actions = { set: [], remove: [], add: [], delete: [] } as {
      set: { path: Path; value: SetValue }[];
      remove: Path[];
      add: { path: Path; value: AttributeValue }[];
      delete: { path: Path; value: AttributeValue }[];
    };
    const seen = new Set<string>();
    while (this.peek().kind !== "end") {
      const clause = this.peek();
      const keyword = clause.text.toUpperCase();
      if (clause.kind !== "ident" || !["SET", "REMOVE", "ADD", "DELETE"].includes(keyword)) {
        this.syntaxError();
      }
      if (seen.has(keyword)) {
        throw validationException(
          `Invalid ${this.kind}: The "${keyword}" section can only be used once in an update expression;`,
        );
      }
      seen.add(keyword);
      this.position += 1;
      do {
        if (this.peek().text === ",") this.position += 1;
        const path = this.path();
        if (keyword === "SET") {
          this.expect("=");
          actions.set.push({ path, value: this.setValue() });
        } else if (keyword === "REMOVE") {
          actions.remove.push(path);
        } else {
          const valueToken = this.peek();
          if (valueToken.kind !== "value") this.syntaxError();
          this.position += 1;
          const value = this.context.value(valueToken.text, this.kind);
          (keyword === "ADD" ? actions.add : actions.delete).push({ path, value });
        }
      } while (this.peek().text === ",");
    }
    return actions;
  }

  private setValue(): SetValue {
    const left = this.setOperand();
    const next = this.peek();
    if (next.text === "+" || next.text === "-") {
      this.position += 1;
      return { kind: "arithmetic", op: next.text, left, right: this.setOperand() };
    }
    return left;
  }

  private setOperand(): SetValue {
    const token = this.peek();
    if (token.kind === "ident" && this.peek(1).text === "(") {
      if (token.text === "if_not_exists") {
        this.position += 2;
        const path = this.path();
        this.expect(",");
        const fallback = this.setValue();
        this.expect(")");
        return { kind: "if_not_exists", path, fallback };
      }
      if (token.text === "list_append") {
        this.position += 2;
        const first = this.setValue();
        this.expect(",");
        const second = this.setValue();
        this.expect(")");
        return { kind: "list_append", first, second };
      }
      throw validationException(
        `Invalid ${this.kind}: Invalid function name; function: ${token.text}`,
      );
    }
    if (token.kind === "value") {
      this.position += 1;
      return {
        kind: "operand",
        operand: { kind: "value", value: this.context.value(token.text, this.kind) },
      };
    }
    return { kind: "operand", operand: { kind: "path", path: this.path() } };
  }

  // Shared ----------------------------------------------------------------------------------

  private path(): Path {
    const segments: (string | number)[] = [this.attributeName()];
    for (;;) {
      const token = this.peek();
      if (token.text === ".") {
        this.position += 1;
        segments.push(this.attributeName());
      } else if (token.text === "[") {
        this.position += 1;
        const index = this.peek();
        if (index.kind !== "number") this.syntaxError();
        this.position += 1;
        this.expect("]");
        segments.push(Number(index.text));
      } else return segments;
    }
  }

  private attributeName(): string {
    const token = this.peek();
    if (token.kind === "name") {
      this.position += 1;
      return this.context.name(token.text, this.kind);
    }
    if (token.kind === "ident" && !KEYWORDS.has(token.text.toUpperCase())) {
      if (RESERVED_WORDS.has(token.text.toUpperCase())) {
        throw validationException(
          `Invalid ${this.kind}: Attribute name is a reserved keyword; reserved keyword: ${token.text}`,
        );
      }
      this.position += 1;
      return token.text;
    }
    return this.syntaxError();
  }

  private isKeyword(word: string): boolean {
    const token = this.peek();
    return token.kind === "ident" && token.text.toUpperCase() === word;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.position + offset, this.tokens.length - 1)] as Token;
  }

  private expect(text: string): void {
    if (this.peek().text !== text) this.syntaxError();
    this.position += 1;
  }

  private expectEnd(): void {
    if (this.peek().kind !== "end") this.syntaxError();
  }

  private syntaxError(): never {
    const token = this.peek();
    throw validationException(
      `Invalid ${this.kind}: Syntax error; token: "${token.text}", near: "${this.near()}"`,
    );
  }

  private near(): string {
    return this.tokens
      .slice(Math.max(0, this.position - 1), this.position + 2)
      .filter((token) => token.kind !== "end")
      .map((token) => token.text)
      .join(" ");
  }
}

export function parseCondition(
  expression: string,
  context: ExpressionContext,
  kind = "ConditionExpression",
): Condition {
  return new Parser(expression, context, kind).parseCondition();
}

export function parseUpdate(expression: string, context: ExpressionContext): UpdateActions {
  return new Parser(expression, context, "UpdateExpression").parseUpdate();
}

// ---------------------------------------------------------------------------------------------
// Evaluation

export function getPath(item: Item | undefined, path: Path): AttributeValue | undefined {
  let current: AttributeValue | undefined = item ? { M: item } : undefined;
  for (const segment of path) {
    if (current === undefined) return undefined;
    if (typeof segment === "number") current = "L" in current ? current.L?.[segment] : undefined;
    else current = "M" in current ? current.M?.[segment] : undefined;
  }
  return current;
}

function typeOf(value: AttributeValue): string {
  return (
    Object.keys(value).find(
      (key) => (value as unknown as Record<string, unknown>)[key] !== undefined,
    ) ?? ""
  );
}

function scalar(value: AttributeValue): unknown {
  return (value as unknown as Record<string, unknown>)[typeOf(value)];
}

export function attributeValuesEqual(
  a: AttributeValue | undefined,
  b: AttributeValue | undefined,
): boolean {
  if (!a || !b) return false;
  const type = typeOf(a);
  if (type !== typeOf(b)) return false;
  const left = scalar(a);
  const right = scalar(b);
  switch (type) {
    case "N":
      return Number(left) === Number(right);
    case "B":
      return Buffer.from(left as Uint8Array).equals(Buffer.from(right as Uint8Array));
    case "SS":
    case "NS": {
      const l = left as string[];
      const r = right as string[];
      return l.length === r.length && l.every((element) => r.includes(element));
    }
    case "L": {
      const l = left as AttributeValue[];
      const r = right as AttributeValue[];
      return (
        l.length === r.length &&
        l.every((element, index) => attributeValuesEqual(element, r[index]))
      );
    }
    case "M": {
      const l = left as Item;
      const r = right as Item;
      const keys = Object.keys(l);
      return (
        keys.length === Object.keys(r).length &&
        keys.every((key) => attributeValuesEqual(l[key], r[key]))
      );
    }
    default:
      return left === right;
  }
}

function compareOrdered(a: AttributeValue, b: AttributeValue): number | undefined {
  const type = typeOf(a);
  if (type !== typeOf(b) || !["S", "N", "B"].includes(type)) return undefined;
  if (type === "N") return Number(scalar(a)) - Number(scalar(b));
  if (type === "S") {
    const l = scalar(a) as string;
    const r = scalar(b) as string;
    return l < r ? -1 : l > r ? 1 : 0;
  }
  return Buffer.compare(Buffer.from(scalar(a) as Uint8Array), Buffer.from(scalar(b) as Uint8Array));
}

function resolveOperand(operand: Operand, item: Item | undefined): AttributeValue | undefined {
  switch (operand.kind) {
    case "value":
      return operand.value;
    case "path":
      return getPath(item, operand.path);
    case "size": {
      const value = getPath(item, operand.path);
      if (!value) return undefined;
      const inner = scalar(value);
      const type = typeOf(value);
      if (type === "S") return { N: String(Buffer.byteLength(inner as string)) };
      if (type === "M") return { N: String(Object.keys(inner as object).length) };
      if (Array.isArray(inner) || inner instanceof Uint8Array) return { N: String(inner.length) };
      return undefined;
    }
  }
}

export function evaluateCondition(condition: Condition, item: Item | undefined): boolean {
  switch (condition.kind) {
    case "and":
      return evaluateCondition(condition.left, item) && evaluateCondition(condition.right, item);
    case "or":
      return evaluateCondition(condition.left, item) || evaluateCondition(condition.right, item);
    case "not":
      return !evaluateCondition(condition.operand, item);
    case "compare": {
      const left = resolveOperand(condition.left, item);
      const right = resolveOperand(condition.right, item);
      if (condition.op === "=") return attributeValuesEqual(left, right);
      if (condition.op === "<>") return !attributeValuesEqual(left, right);
      if (!left || !right) return false;
      const order = compareOrdered(left, right);
      if (order === undefined) return false;
      return (
        { "<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0 }[condition.op] ??
        false
      );
    }
    case "between": {
      const value = resolveOperand(condition.operand, item);
      const low = resolveOperand(condition.low, item);
      const high = resolveOperand(condition.high, item);
      if (!value || !low || !high) return false;
      const fromLow = compareOrdered(value, low);
      const toHigh = compareOrdered(value, high);
      return fromLow !== undefined && toHigh !== undefined && fromLow >= 0 && toHigh <= 0;
    }
    case "in": {
      const value = resolveOperand(condition.operand, item);
      return condition.list.some((candidate) =>
        attributeValuesEqual(value, resolveOperand(candidate, item)),
      );
    }
    case "function":
      return evaluateFunction(condition.name, condition.args, item);
  }
}

function evaluateFunction(name: string, args: readonly Operand[], item: Item | undefined): boolean {
  const first = args[0] as Operand;
  switch (name) {
    case "attribute_exists":
      return resolveOperand(first, item) !== undefined;
    case "attribute_not_exists":
      return resolveOperand(first, item) === undefined;
    case "attribute_type": {
      const value = resolveOperand(first, item);
      const type = resolveOperand(args[1] as Operand, item);
      return value !== undefined && type !== undefined && typeOf(value) === scalar(type);
    }
    case "begins_with": {
      const value = resolveOperand(first, item);
      const prefix = resolveOperand(args[1] as Operand, item);
      if (!value || !prefix || typeOf(value) !== typeOf(prefix)) return false;
      if (typeOf(value) === "S")
        return (scalar(value) as string).startsWith(scalar(prefix) as string);
      return false;
    }
    case "contains": {
      const value = resolveOperand(first, item);
      const operand = resolveOperand(args[1] as Operand, item);
      if (!value || !operand) return false;
      const type = typeOf(value);
      if (type === "S")
        return (
          typeOf(operand) === "S" && (scalar(value) as string).includes(scalar(operand) as string)
        );
      if (type === "SS" || type === "NS")
        return (scalar(value) as string[]).includes(scalar(operand) as string);
      if (type === "L")
        return (scalar(value) as AttributeValue[]).some((element) =>
          attributeValuesEqual(element, operand),
        );
      return false;
    }
    default:
      throw new SimulatorUnsupportedError(`condition function ${name} is not modelled`);
  }
}

function evaluateSetValue(value: SetValue, item: Item | undefined): AttributeValue {
  switch (value.kind) {
    case "operand": {
      const resolved = resolveOperand(value.operand, item);
      if (!resolved) {
        throw validationException(
          "The provided expression refers to an attribute that does not exist in the item",
        );
      }
      return resolved;
    }
    case "if_not_exists":
      return getPath(item, value.path) ?? evaluateSetValue(value.fallback, item);
    case "list_append": {
      const first = evaluateSetValue(value.first, item);
      const second = evaluateSetValue(value.second, item);
      if (!("L" in first) || !("L" in second) || !first.L || !second.L) {
        throw validationException(
          "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: " +
            ("L" in first && first.L ? typeOf(second) : typeOf(first)),
        );
      }
      return { L: [...first.L, ...second.L] };
    }
    case "arithmetic": {
      const left = evaluateSetValue(value.left, item);
      const right = evaluateSetValue(value.right, item);
      if (typeOf(left) !== "N" || typeOf(right) !== "N") {
        throw validationException(
          `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ${value.op}, operand type: ${typeOf(left) !== "N" ? typeOf(left) : typeOf(right)}`,
        );
      }
      const result =
        value.op === "+"
          ? Number(scalar(left)) + Number(scalar(right))
          : Number(scalar(left)) - Number(scalar(right));
      return { N: String(result) };
    }
  }
}

function setPath(item: Item, path: Path, value: AttributeValue | undefined): void {
  if (path.length === 1) {
    if (value === undefined) delete item[path[0] as string];
    else item[path[0] as string] = value;
    return;
  }
  const parent = getPath(item, path.slice(0, -1));
  const last = path[path.length - 1] as string | number;
  if (!parent) {
    throw validationException(
      "The document path provided in the update expression is invalid for update",
    );
  }
  if (typeof last === "number" && "L" in parent && parent.L) {
    if (value === undefined) parent.L.splice(last, 1);
    else if (last >= parent.L.length) parent.L.push(value);
    else parent.L[last] = value;
  } else if (typeof last === "string" && "M" in parent && parent.M) {
    if (value === undefined) delete parent.M[last];
    else parent.M[last] = value;
  } else {
    throw validationException(
      "The document path provided in the update expression is invalid for update",
    );
  }
}

/** Applies update actions to a copy of `item` (or a new item holding `key`). */
export function applyUpdate(item: Item | undefined, key: Item, actions: UpdateActions): Item {
  const result: Item = structuredClone(item ?? key);
  // Every right-hand side reads the item as it was before the update.
  const before = item;
  for (const { path, value } of actions.set) setPath(result, path, evaluateSetValue(value, before));
  for (const path of actions.remove) setPath(result, path, undefined);
  for (const { path, value } of actions.add) {
    const current = getPath(result, path);
    const type = typeOf(value);
    if (type === "N") {
      const base = current ? Number(scalar(current)) : 0;
      setPath(result, path, { N: String(base + Number(scalar(value))) });
    } else if (type === "SS" || type === "NS") {
      const existing = current ? (scalar(current) as string[]) : [];
      const merged = [...new Set([...existing, ...(scalar(value) as string[])])];
      setPath(result, path, { [type]: merged } as unknown as AttributeValue);
    } else {
      throw validationException(
        `Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: ${type}`,
      );
    }
  }
  for (const { path, value } of actions.delete) {
    const current = getPath(result, path);
    if (!current) continue;
    const type = typeOf(value);
    const remaining = (scalar(current) as string[]).filter(
      (element) => !(scalar(value) as string[]).includes(element),
    );
    setPath(
      result,
      path,
      remaining.length ? ({ [type]: remaining } as unknown as AttributeValue) : undefined,
    );
  }
  for (const keyName of Object.keys(key)) {
    if (!attributeValuesEqual(result[keyName], key[keyName])) {
      throw validationException(
        `One or more parameter values were invalid: Cannot update attribute ${keyName}. This attribute is part of the key`,
      );
    }
  }
  return result;
}
