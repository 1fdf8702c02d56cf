"""How a call is coded when it ends (docs/architecture.md#concerns-and-their-clocks): the outcome coding the NHS England
return counts, how the caller was told, why a call was cancelled, and what else is recorded at the end (a death or
discharge, the patient's age group). Enums stored as their values (models/hospital.py: str_enum)."""

from __future__ import annotations

import enum


class ConcernType(str, enum.Enum):
    """Outcome coding at close (docs/architecture.md#concerns-and-their-clocks): acute deterioration or not, and if not, what."""

    ACUTE_DETERIORATION = "acute_deterioration"
    CLINICAL_CONCERN = "clinical_concern"  # e.g. delayed medication or tests
    COMMUNICATION = "communication"
    DISCHARGE_PLANNING = "discharge_planning"
    OTHER_SIGNPOSTED = "other_signposted"  # PALS, complaints, non-clinical


class DeteriorationOutcome(str, enum.Enum):
    CRITICAL_CARE_ADMISSION = "critical_care_admission"  # HDU or ICU
    TRANSFER_ENHANCED_OR_TERTIARY = "transfer_enhanced_or_tertiary"
    CHANGE_IN_CARE = "change_in_care"
    NO_CHANGE = "no_change"


class ChangeInCare(str, enum.Enum):
    MEDICATION = "medication"
    OXYGEN = "oxygen"
    INVESTIGATIONS = "investigations"
    OTHER = "other"


class ReviewKind(str, enum.Enum):
    PHONE_ADVICE = "phone_advice"
    SEEN_ON_WARD = "seen_on_ward"


class CallerUpdateMethod(str, enum.Enum):
    PHONE = "phone"
    IN_PERSON = "in_person"
    TEXT_MESSAGE = "text_message"
    COULD_NOT_CONTACT = "could_not_contact"


class LocalReason(str, enum.Enum):
    """Why a call ended, beyond its coding: the patient died or was discharged (before or after the
    review). No more texts go to the caller. How each counts in the return: a call cancelled as
    withdrawn because the patient was discharged (or died) before review is "withdrawn"; a call closed
    after its review keeps the outcome coded at close."""

    PATIENT_DIED = "patient_died"
    PATIENT_DISCHARGED = "patient_discharged"


class AgeGroup(str, enum.Enum):
    """Whether the patient was a child, for the children's retention rule when no date of birth is known."""

    UNDER_18 = "under_18"
    ADULT = "adult"  # 18 or over
    UNKNOWN = "unknown"


class CancelKind(str, enum.Enum):
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"
