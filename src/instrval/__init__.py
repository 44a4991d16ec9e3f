"""instrval: validate questionnaire instruments with a convergent mixed-methods design.

The public API, by layer (data flows one way: read -> validate -> statistics ->
integrate -> report / revised instrument):

* reading and writing: :func:`read_instrument`, :func:`write_instrument`, ...
* the model: :class:`Instrument`, :class:`Construct`, :class:`Item`, :class:`Gate`
* errors: :class:`InstrvalError` and its subclasses, each carrying every
  :class:`Problem` found.
"""

from instrval._version import __version__
from instrval.errors import (
    CodingError,
    ExportError,
    InstrumentError,
    InstrvalError,
    InstrvalWarning,
    PanelError,
    Problem,
    PublishError,
    RatingsError,
    StatisticsError,
    StudyError,
)
from instrval.io.instrument import (
    check_instrument_file,
    dumps_instrument,
    loads_instrument,
    read_instrument,
    write_instrument,
)
from instrval.model.instrument import Construct, Gate, Instrument, Item, Scale

__all__ = [
    "__version__",
    "Instrument",
    "Construct",
    "Item",
    "Gate",
    "Scale",
    "read_instrument",
    "loads_instrument",
    "dumps_instrument",
    "write_instrument",
    "check_instrument_file",
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
    "Problem",
]
