"""Online, causal anomaly detectors for the agent's series, and scoring CSV files with them."""

from orion_agent.detect.agent import AgentDetector, AgentSettings
from orion_agent.detect.base import Detector, StateError
from orion_agent.detect.baselines import StaticThresholdDetector, WindowedGaussianDetector
from orion_agent.detect.csv_scoring import CsvFormatError, score_csv

__all__ = [
    "AgentDetector",
    "AgentSettings",
    "CsvFormatError",
    "Detector",
    "StateError",
    "StaticThresholdDetector",
    "WindowedGaussianDetector",
    "score_csv",
]
