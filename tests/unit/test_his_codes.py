"""The interface's code tables agree with the project's scenes, insurance types and errors."""

import pytest

from server.errors import all_error_classes
from server.his.codes import (
    ACCT_USED_FLAGS,
    CLR_TYPES,
    ERR_MSG_MAX,
    ERROR_MESSAGES_ZH,
    INSUTYPE_OF_INSURANCE_TYPE,
    MED_TYPES,
    PSN_SETLWAYS,
    PSN_TYPE_OF_INSURANCE_TYPE,
    account_use,
    check_code,
    check_ecredential_cert,
    check_insutype,
    err_msg,
    insutype_for,
    scene_for,
)
from server.his.errors import HisInputError
from server.roster.rules import INSURANCE_TYPES
from server.settlement.rules import Scene


def test_every_error_code_of_the_project_has_a_chinese_message_and_no_other():
    assert set(ERROR_MESSAGES_ZH) == {cls.code for cls in all_error_classes()}


def test_err_msg_names_our_code_first():
    assert err_msg("QR_EXPIRED") == "[QR_EXPIRED] 医保电子凭证已过期，请参保人刷新二维码"
    assert err_msg("NOT_FOUND", "就诊ID M1 不存在") == "[NOT_FOUND] 记录不存在：就诊ID M1 不存在"


def test_err_msg_fits_the_specs_200_characters():
    assert len(err_msg("VALIDATION_ERROR", "长" * 500)) == ERR_MSG_MAX


def test_an_unknown_error_code_is_a_bug():
    with pytest.raises(ValueError):
        err_msg("NO_SUCH_CODE")


def test_every_mapped_scene_is_one_of_ours():
    scenes = {scene for _, scene in MED_TYPES.values()} - {"pharmacy"}
    assert scenes <= {s.value for s in Scene}
    assert {
        scene_for("41", has_prescription=True),
        scene_for("41", has_prescription=False),
    } <= {s.value for s in Scene}


@pytest.mark.parametrize(
    ("med_type", "scene"),
    [
        ("11", "outpatient"),
        ("12", "registration"),
        ("13", "outpatient"),
        ("14", "outpatient"),
        ("21", "inpatient_discharge"),
        ("24", "inpatient_discharge"),
        ("52", "inpatient_discharge"),
    ],
)
def test_med_types_map_to_scenes(med_type, scene):
    assert scene_for(med_type) == scene


def test_a_pharmacy_purchase_is_a_prescription_purchase_only_with_a_prescription():
    assert scene_for("41", has_prescription=True) == "pharmacy_prescription"
    assert scene_for("41") == "pharmacy_self_purchase"


def test_another_city_of_insurance_makes_it_cross_region():
    assert scene_for("11", insuplc_admdvs="310101", mdtrtarea_admvs="110108") == "cross_region"
    assert scene_for("11", insuplc_admdvs="110105", mdtrtarea_admvs="110108") == "outpatient"
    assert scene_for("11", insuplc_admdvs=None, mdtrtarea_admvs="110108") == "outpatient"


@pytest.mark.parametrize("bad", ["2101", "140104", "99", "", None])
def test_unknown_med_types_are_refused_listing_the_supported_ones(bad):
    with pytest.raises(HisInputError) as caught:
        scene_for(bad)
    assert caught.value.field == "med_type"
    assert "11普通门诊" in caught.value.reason_zh


def test_every_insurance_type_of_the_roster_has_an_insutype_and_a_psn_type():
    assert set(INSUTYPE_OF_INSURANCE_TYPE) == set(INSURANCE_TYPES)
    assert set(PSN_TYPE_OF_INSURANCE_TYPE) == set(INSURANCE_TYPES)
    assert insutype_for("employee") == "310"
    assert insutype_for("retiree") == "310"
    assert insutype_for("resident") == "390"
    with pytest.raises(ValueError):
        insutype_for("pirate")


def test_only_the_two_basic_schemes_are_served():
    assert check_insutype("310") == "310"
    assert check_insutype("390") == "390"
    assert check_insutype(None) is None
    with pytest.raises(HisInputError, match="缺少"):
        check_insutype(None, required=True)
    with pytest.raises(HisInputError) as caught:
        check_insutype("320")
    assert "公务员医疗补助" in caught.value.reason_zh


def test_only_the_e_credential_is_served():
    check_ecredential_cert("01")
    for other in ["02", "03", None, "9"]:
        with pytest.raises(HisInputError) as caught:
            check_ecredential_cert(other)
        assert caught.value.field == "mdtrt_cert_type"


@pytest.mark.parametrize(
    ("flag", "own", "mutual"),
    [
        (None, False, False),
        ("0", False, False),
        ("1", True, False),
        ("01", True, False),
        ("2", True, True),
    ],
)
def test_acct_used_flag_says_which_accounts_may_pay(flag, own, mutual):
    use = account_use(flag)
    assert (use.uses_own_account, use.uses_mutual_aid) == (own, mutual)


@pytest.mark.parametrize("bad", ["3", "x", "12"])
def test_an_unknown_acct_used_flag_is_refused(bad):
    with pytest.raises(HisInputError):
        account_use(bad)


def test_small_tables_refuse_what_they_do_not_hold():
    assert check_code(PSN_SETLWAYS, "01", "psn_setlway") == "01"
    assert check_code(CLR_TYPES, "41", "clr_type") == "41"
    with pytest.raises(HisInputError) as caught:
        check_code(CLR_TYPES, "99", "clr_type")
    assert "11门诊" in caught.value.reason_zh
    assert set(ACCT_USED_FLAGS) == {"0", "1", "2"}
