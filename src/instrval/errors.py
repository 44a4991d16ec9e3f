"""Errors and warnings raised by instrval.

Every error instrval raises on bad input is an :class:`InstrvalError`. It carries the
list of :class:`Problem` records found (all of them, not just the first), each naming
the file, the place in it (row and column for tables, key path and line for YAML/JSON),
the offending value and a reason code, so that a user can fix everything in one pass.
The command-line interface prints these messages and exits with a non-zero status;
it never shows a traceback for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

__all__ = [
    "Reason",
    "REASONS",
    "Problem",
    "InstrvalError",
    "InstrumentError",
    "RatingsError",
    "CodingError",
    "PanelError",
    "StudyError",
    "PublishError",
    "ExportError",
    "StatisticsError",
    "InstrvalWarning",
    "ConvergenceWarning",
    "HeywoodWarning",
    "SmoothingWarning",
    "DataQualityWarning",
]


class Reason(str, Enum):
    """The catalogue of reason codes: one code per meaning.

    A :class:`Problem`'s ``reason`` is one of these values (a plain string, so that
    comparisons with text and JSON output are unchanged). Readers and checks with codes
    of their own (``validate.ratings.REASONS``, the panel reader's, the instrument
    checker's) use these for the meanings listed here; the descriptions are in
    :data:`REASONS`. Former codes of the same meaning: ``non_numeric`` is
    ``not_a_number``; ``unparseable`` and ``malformed`` are ``unreadable``; a missing file
    is always ``file_not_found``.
    """
    FILE_NOT_FOUND = "file_not_found"
    NOT_A_FILE = "not_a_file"
    NOT_A_REGULAR_FILE = "not_a_regular_file"
    UNREADABLE = "unreadable"
    TOO_LARGE = "too_large"
    DECOMPRESSION_BOMB = "decompression_bomb"
    TOO_MANY_ROWS = "too_many_rows"
    TOO_MANY_CELLS = "too_many_cells"
    TOO_COMPLEX = "too_complex"
    YAML_ALIAS = "yaml_alias"
    ENCODING = "encoding"
    NOT_TEXT = "not_text"
    NOT_XLSX = "not_xlsx"
    EMPTY_FILE = "empty_file"
    HEADER_ONLY = "header_only"
    YAML_SYNTAX = "yaml_syntax"
    YAML_TAG = "yaml_tag"
    JSON_SYNTAX = "json_syntax"
    DUPLICATE_KEY = "duplicate_key"
    XML_SYNTAX = "xml_syntax"
    UNSAFE_XML = "unsafe_xml"
    XML_TOO_LARGE = "xml_too_large"
    BAD_ARCHIVE = "bad_archive"
    ARCHIVE_TOO_LARGE = "archive_too_large"
    ARCHIVE_TOO_MANY_MEMBERS = "archive_too_many_members"
    ARCHIVE_PATH_TRAVERSAL = "archive_path_traversal"
    NESTED_ARCHIVE = "nested_archive"
    MISSING_MEMBER = "missing_member"
    CORRUPT_INDEX = "corrupt_index"
    PATH_OUTSIDE_OUTPUT = "path_outside_output"
    DUPLICATE_COLUMN = "duplicate_column"
    UNKNOWN_COLUMN = "unknown_column"
    MISSING_COLUMN = "missing_column"
    MISSING_ID_COLUMN = "missing_id_column"
    BLANK_COLUMN = "blank_column"
    RAGGED_ROW = "ragged_row"
    TRUNCATED_ROW = "truncated_row"
    UNTERMINATED_QUOTE = "unterminated_quote"
    EMPTY_ROW = "empty_row"
    NOT_A_NUMBER = "not_a_number"
    OUT_OF_RANGE = "out_of_range"
    BLANK_ID = "blank_id"
    DUPLICATE_ID = "duplicate_id"
    CASE_TWIN_ID = "case_twin_id"
    CONFLICTING_RECORD_ROW = "conflicting_record_row"
    MAPPING = "mapping"
    NOTHING_USABLE = "nothing_usable"
    NO_MATCHING_ROWS = "no_matching_rows"
    WRONG_TYPE = "wrong_type"
    EMPTY_VALUE = "empty_value"
    INVALID_ID = "invalid_id"
    INVALID_VERSION = "invalid_version"
    INVALID_VALUE = "invalid_value"
    UNKNOWN_KEY = "unknown_key"
    MISSING_KEY = "missing_key"
    MISSING_DEPENDENCY = "missing_dependency"
    MORE_PROBLEMS = "more_problems"
    DUPLICATE_ITEM = "duplicate_item"
    DUPLICATE_ROW = "duplicate_row"
    UNKNOWN_ITEM = "unknown_item"
    UNKNOWN_CONSTRUCT = "unknown_construct"
    CONSTRUCT_MISMATCH = "construct_mismatch"
    DUPLICATE_CODE = "duplicate_code"
    MISSING_CODE = "missing_code"
    UNKNOWN_CATEGORY = "unknown_category"
    NO_CODER_COLUMN = "no_coder_column"
    UNKNOWN_SEGMENT = "unknown_segment"
    PINNED_NOT_SHOWN = "pinned_not_shown"
    DUPLICATE_FIELD = "duplicate_field"
    MISSING_VALUE = "missing_value"
    UNKNOWN_FIELD_TYPE = "unknown_field_type"
    BLANK_CHOICE_LABEL = "blank_choice_label"
    MALFORMED_CHOICES = "malformed_choices"
    DICTIONARY_MISMATCH = "dictionary_mismatch"
    SKIPPED_FIELD = "skipped_field"
    NO_CHOICE_FIELDS = "no_choice_fields"
    NOT_QUESTIONNAIRE = "not_questionnaire"
    MISSING_SHEET = "missing_sheet"
    BAD_MODEL = "bad_model"
    BAD_ITEMS = "bad_items"
    BAD_MODEL_SYNTAX = "bad_model_syntax"
    BAD_PARAMETER = "bad_parameter"

    def __str__(self) -> str:
        return self.value


#: What each catalogued reason code means.
REASONS: dict[str, str] = {
    Reason.FILE_NOT_FOUND.value: "the file does not exist",
    Reason.NOT_A_FILE.value: "a folder was given where a file is expected",
    Reason.NOT_A_REGULAR_FILE.value: "a device, named pipe (FIFO) or socket was given; only regular files are read",
    Reason.UNREADABLE.value: "the file cannot be read or parsed in its format (damaged workbook, gzip or archive; not valid CSV)",
    Reason.TOO_LARGE.value: "the file, or the memory it would need, is over a limit (docs/security.md)",
    Reason.DECOMPRESSION_BOMB.value: "a gzip file, archive member or Parquet file inflates past a size or ratio limit",
    Reason.TOO_MANY_ROWS.value: "a worksheet has more rows than the limit",
    Reason.TOO_MANY_CELLS.value: "a worksheet has more cells than the limit",
    Reason.TOO_COMPLEX.value: "a YAML/JSON document nests too deeply or holds a number too long to convert",
    Reason.YAML_ALIAS.value: "YAML aliases expand past the node limit, or an alias refers to itself",
    Reason.ENCODING.value: "the text is not in an encoding the reader accepts (UTF-8)",
    Reason.NOT_TEXT.value: "a binary file (image, PDF, database...) was given where text is expected",
    Reason.NOT_XLSX.value: "a file named .xlsx is not an Excel workbook",
    Reason.EMPTY_FILE.value: "the file has no content",
    Reason.HEADER_ONLY.value: "the file has a header but no data rows",
    Reason.YAML_SYNTAX.value: "invalid YAML",
    Reason.YAML_TAG.value: "a YAML tag that would build objects",
    Reason.JSON_SYNTAX.value: "invalid JSON",
    Reason.DUPLICATE_KEY.value: "a key appears twice in one mapping",
    Reason.XML_SYNTAX.value: "XML that is not well-formed",
    Reason.UNSAFE_XML.value: "XML with a DTD, entity declaration or external reference",
    Reason.XML_TOO_LARGE.value: "an XML document over the size limit",
    Reason.BAD_ARCHIVE.value: "an archive that cannot be read",
    Reason.ARCHIVE_TOO_LARGE.value: "an archive member over the size or ratio limit",
    Reason.ARCHIVE_TOO_MANY_MEMBERS.value: "an archive with too many members",
    Reason.ARCHIVE_PATH_TRAVERSAL.value: "an archive member whose path leaves the archive",
    Reason.NESTED_ARCHIVE.value: "an archive inside an archive",
    Reason.MISSING_MEMBER.value: "an archive lacks the member its format needs",
    Reason.CORRUPT_INDEX.value: "a registry index entry is damaged or points outside the registry",
    Reason.PATH_OUTSIDE_OUTPUT.value: "a file name that would be written outside the output folder",
    Reason.DUPLICATE_COLUMN.value: "two columns carry the same name",
    Reason.UNKNOWN_COLUMN.value: "a column that is not expected (or not found)",
    Reason.MISSING_COLUMN.value: "an expected column is absent",
    Reason.MISSING_ID_COLUMN.value: "no rating_id or respondent_id column",
    Reason.BLANK_COLUMN.value: "a column blank in every row",
    Reason.RAGGED_ROW.value: "a row with more cells than the header",
    Reason.TRUNCATED_ROW.value: "a row with fewer cells than the header",
    Reason.UNTERMINATED_QUOTE.value: "a quoted cell runs over several lines (a stray quote), swallowing them",
    Reason.EMPTY_ROW.value: "an empty row",
    Reason.NOT_A_NUMBER.value: "a cell that must hold a number holds text",
    Reason.OUT_OF_RANGE.value: "a number outside the allowed codes or range (or infinite)",
    Reason.BLANK_ID.value: "a blank id",
    Reason.DUPLICATE_ID.value: "an id used twice",
    Reason.CASE_TWIN_ID.value: "two ids that differ only by case",
    Reason.CONFLICTING_RECORD_ROW.value: "two REDCap record-level rows of one record disagree",
    Reason.MAPPING.value: "a mapping file names an unknown target or is malformed",
    Reason.NOTHING_USABLE.value: "every row was quarantined",
    Reason.NO_MATCHING_ROWS.value: "a row filter (--where) keeps no row of the data",
    Reason.WRONG_TYPE.value: "a value of the wrong type",
    Reason.EMPTY_VALUE.value: "an empty value where one is required",
    Reason.INVALID_ID.value: "an id that is not identifier-safe",
    Reason.INVALID_VERSION.value: "a version label that cannot name a file safely",
    Reason.INVALID_VALUE.value: "a value that is not one of the allowed choices",
    Reason.UNKNOWN_KEY.value: "a key the format does not define",
    Reason.MISSING_KEY.value: "a required key is absent",
    Reason.MISSING_DEPENDENCY.value: "an optional package the chosen feature needs is not installed",
    Reason.MORE_PROBLEMS.value: "a summary line: more problems than a message lists (all are in the error's problems)",
    Reason.DUPLICATE_ITEM.value: "an item named twice in a selection of items",
    Reason.DUPLICATE_ROW.value: "a second row for what one row may describe (e.g. a second decision for an item)",
    Reason.UNKNOWN_ITEM.value: "an item id that is not in the instrument",
    Reason.UNKNOWN_CONSTRUCT.value: "a construct id that is not in the instrument",
    Reason.CONSTRUCT_MISMATCH.value: "an item given under a construct it does not belong to",
    Reason.DUPLICATE_CODE.value: "a qualitative code defined twice in a codebook",
    Reason.MISSING_CODE.value: "a codebook entry without a code",
    Reason.UNKNOWN_CATEGORY.value: "a code category that is not one of the allowed categories",
    Reason.NO_CODER_COLUMN.value: "coding data that names no coders (each segment is taken as coded once)",
    Reason.UNKNOWN_SEGMENT.value: "a pinned quote that is not an accepted segment of the coding data",
    Reason.PINNED_NOT_SHOWN.value: "a pinned quote about nothing the report shows",
    Reason.DUPLICATE_FIELD.value: "a REDCap field defined twice in a data dictionary",
    Reason.MISSING_VALUE.value: "a row with cells but no value in its key column (e.g. no field name)",
    Reason.UNKNOWN_FIELD_TYPE.value: "a REDCap field type the dictionary reader does not know",
    Reason.BLANK_CHOICE_LABEL.value: "a choice code with a blank label",
    Reason.MALFORMED_CHOICES.value: "a choices cell that cannot be split into code, label pairs",
    Reason.DICTIONARY_MISMATCH.value: "a column of an export that the data dictionary does not define",
    Reason.SKIPPED_FIELD.value: "fields without choices that an importer skipped (a note)",
    Reason.NO_CHOICE_FIELDS.value: "an exported form with no question an importer can use",
    Reason.NOT_QUESTIONNAIRE.value: "a FHIR resource that is not a Questionnaire",
    Reason.MISSING_SHEET.value: "a workbook without the sheet its format needs (e.g. XLSForm's survey)",
    Reason.BAD_MODEL.value: "a factor model file that is not a mapping of factors to items",
    Reason.BAD_ITEMS.value: "a factor of a model file whose items are not a list of item ids",
    Reason.BAD_MODEL_SYNTAX.value: "lavaan-style model syntax that cannot be parsed",
    Reason.BAD_PARAMETER.value: "a parameter named in a constraint that is not in the model",
}


@dataclass(frozen=True)
class Problem:
    """One problem found in an input.

    Attributes
    ----------
    reason : str
        A stable, machine-readable reason code such as ``"duplicate_id"`` or
        ``"out_of_range"``.
    message : str
        A sentence for people.
    file : str, optional
        The file the problem is in.
    row : int, optional
        The row as a user sees it in a spreadsheet (the header is row 1, the first data
        row is row 2), for tabular inputs.
    column : str, optional
        The column name, for tabular inputs.
    key : str, optional
        The key path (``constructs[2].items[0].id``), for YAML/JSON inputs.
    line : int, optional
        The 1-based line in the file, where the parser knows it.
    value : object, optional
        The offending value, as read.
    severity : {"error", "warning"}
        Errors make a row or file unusable; warnings are reported and nothing is dropped.
    """

    reason: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    key: str | None = None
    line: int | None = None
    value: Any = None
    severity: str = "error"

    def __post_init__(self) -> None:
        if isinstance(self.reason, Reason):  # stored as the plain code
            object.__setattr__(self, "reason", self.reason.value)

    def location(self) -> str:
        """Return ``file:line`` / ``file, row R, column C`` style text for this problem."""
        parts: list[str] = []
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        if where:
            parts.append(where)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.key is not None:
            parts.append(f"at {self.key}")
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        return f"{loc}: {self.message}" if loc else self.message

    def to_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-friendly dict."""
        d = asdict(self)
        v = d["value"]
        if v is not None and not isinstance(v, (str, int, float, bool)):
            d["value"] = str(v)
        return d


class InstrvalError(Exception):
    """Base class of instrval's errors about inputs and arguments.

    Parameters
    ----------
    message : str
        A summary line.
    problems : sequence of Problem, optional
        Every problem found (all of them, however many). ``str(error)`` lists them, up to
        :attr:`max_listed` when a subclass sets it, then says how many more there are.
    """

    #: How many problems ``str(error)`` lists (None: all); ``problems`` always holds all.
    max_listed: int | None = None

    def __init__(self, message: str, problems: Sequence[Problem] | None = None):
        super().__init__(message)
        self.summary = message
        self.problems: list[Problem] = list(problems or [])

    def __str__(self) -> str:
        if not self.problems:
            return self.summary
        shown = self.problems if self.max_listed is None else self.problems[:self.max_listed]
        lines = [self.summary]
        lines.extend(f"  - {p}" for p in shown)
        if len(shown) < len(self.problems):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more problems "
                         "(all are in error.problems)")
        return "\n".join(lines)

    @classmethod
    def from_problems(cls, problems: Iterable[Problem], what: str) -> InstrvalError:
        """Build an error whose summary counts the problems found in ``what``."""
        problems = list(problems)
        n = len(problems)
        noun = "problem" if n == 1 else "problems"
        return cls(f"{n} {noun} in {what}", problems)


class InstrumentError(InstrvalError):
    """An instrument definition file is malformed or inconsistent."""


class RatingsError(InstrvalError):
    """A rating export cannot be read or contains nothing usable. ``str(error)`` lists the
    first 50 problems; ``problems`` holds every one."""

    max_listed = 50


class CodingError(InstrvalError):
    """A coding table, codebook or qualitative-analysis project cannot be used."""


class PanelError(InstrvalError):
    """An expert-panel file cannot be used."""


class StudyError(InstrvalError):
    """A study file is malformed, or names inputs that cannot be used."""


class PublishError(InstrvalError):
    """Publishing to an instrument registry was refused."""


class ExportError(InstrvalError):
    """An instrument cannot be exported to, or imported from, a survey platform format."""


class StatisticsError(InstrvalError):
    """A statistic cannot be computed from the data given (too few rows, a constant item...)."""


class InstrvalWarning(UserWarning):
    """Base class of instrval's warnings."""


class ConvergenceWarning(InstrvalWarning):
    """An iterative estimate did not converge; the result carries a flag too."""


class HeywoodWarning(InstrvalWarning):
    """A communality reached or exceeded 1 (a Heywood case); the result carries a flag too."""


class SmoothingWarning(InstrvalWarning):
    """A correlation matrix was not positive definite and was smoothed."""


class DataQualityWarning(InstrvalWarning):
    """Input data has problems that did not stop the analysis (quarantined rows, etc.)."""
