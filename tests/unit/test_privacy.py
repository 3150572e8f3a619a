from server.privacy import mask_id_number, mask_name, mask_phone, redact


def test_id_number_keeps_three_and_four():
    assert mask_id_number("110101199003071234") == "110***********1234"


def test_name_keeps_the_family_name():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("李") == "李*"


def test_phone_keeps_three_and_four():
    assert mask_phone("13800138000") == "138****8000"


def test_redact_masks_ids_and_phones_inside_text():
    line = "activation of 11010119900307123X by 13800138000 failed"
    assert redact(line) == "activation of 110***********123X by 138****8000 failed"
