"""License names and URLs as packages spell them, read by family, version and "or later"."""

from __future__ import annotations

import pytest

from services.engine.licenses.normalize import normalize

APACHE = [
    "Apache License, Version 2.0",
    "The Apache Software License, Version 2.0",
    "apache license,version-2.0",
    "Apache 2",
    "apache - v. 2.0",
    "apache license (v2)",
    "Apache Public License 2.0",
    "ApacheLicense",
    "the apache license",
    "ASL 2.0",
    "asl2.0",
    "ALv2",
    "apache version 2.0, january 2004",
    "Apache License, Version 2.0 (http://www.apache.org/licenses/LICENSE-2.0)",
]


@pytest.mark.parametrize("name", APACHE)
def test_apache_spellings(name: str) -> None:
    assert normalize(name) == "Apache-2.0"


@pytest.mark.parametrize(
    ("name", "spdx"),
    [
        ("ECLIPSE PUBLIC LICENSE (EPL), VERSION 1.0", "EPL-1.0"),
        ("Eclipse Public License - v 2.0", "EPL-2.0"),
        ("Eclipse Public", "EPL-1.0"),
        ("Eclipse Distribution License - v 1.0", "BSD-3-Clause"),
        ("COMMON DEVELOPMENT AND DISTRIBUTION LICENSE (CDDL) VERSION 1.1", "CDDL-1.1"),
        ("Common Development and Distribution License 1.0", "CDDL-1.0"),
        ("EUROPEAN UNION PUBLIC LICENSE (EUPL V.1.1)", "EUPL-1.1"),
        ("Mozilla Public License, Version 2.0", "MPL-2.0"),
        ("Boost Software License 1.0", "BSL-1.0"),
        ("The Unlicense", "Unlicense"),
        ("The MIT License (MIT)", "MIT"),
    ],
)
def test_other_families(name: str, spdx: str) -> None:
    assert normalize(name) == spdx


@pytest.mark.parametrize(
    ("name", "spdx"),
    [
        ("GNU GENERAL PUBLIC LICENSE VERSION 3 (GPL V3)", "GPL-3.0-only"),
        ("GNU General Public License v2.0", "GPL-2.0-only"),
        ("GPL3+", "GPL-3.0-or-later"),
        ("GPL (≥ 3)", "GPL-3.0-or-later"),
        ("GPL3 or later licence", "GPL-3.0-or-later"),
        ("GPL-2.0-only+", "GPL-2.0-or-later"),
        ("GNU LIBRARY OR LESSER GENERAL PUBLIC LICENSE VERSION 3.0 (LGPLV3)", "LGPL-3.0-only"),
        ("GNU Lesser General Public License, version 2.1", "LGPL-2.1-only"),
        ("LGPL LICENSE-3", "LGPL-3.0-only"),
        ("GNU Affero General Public License v3 or later", "AGPL-3.0-or-later"),
    ],
)
def test_gnu_families_with_only_and_or_later(name: str, spdx: str) -> None:
    assert normalize(name) == spdx


@pytest.mark.parametrize(
    ("name", "spdx"),
    [
        ("Apache License 2.0 with Commons Clause", "Apache-2.0 WITH LicenseRef-Commons-Clause"),
        ("MIT or Apache License, Version 2.0", "MIT OR Apache-2.0"),
        ("Apache Foo License", "LicenseRef-Apache-Foo-License"),  # a word of no family: not guessed
        ("GNU General Public License", "LicenseRef-GNU-General-Public-License"),  # which version?
        ("UNLICENSED", "LicenseRef-UNLICENSED"),  # npm: not licensed for use, not the Unlicense
        ("GPL-1+,GPL-2", "GPL-1.0-or-later AND GPL-2.0-only"),  # two versions: a list
    ],
)
def test_names_that_are_not_one_family_are_not_guessed(name: str, spdx: str) -> None:
    assert normalize(name) == spdx


@pytest.mark.parametrize(
    ("url", "spdx"),
    [
        ("https://www.apache.org/licenses/LICENSE-2.0", "Apache-2.0"),
        ("http://www.apache.org/licenses/LICENSE-2.0.txt", "Apache-2.0"),
        ("https://www.apache.org/licenses/LICENSE-2.0.html", "Apache-2.0"),
        ("https://opensource.org/licenses/MIT", "MIT"),
        ("http://www.opensource.org/licenses/mit-license.php", "MIT"),
        ("https://opensource.org/licenses/BSD-3-Clause", "BSD-3-Clause"),
        ("http://www.opensource.org/licenses/bsd-license.php", "BSD-2-Clause"),
        ("https://opensource.org/license/apache-2-0/", "Apache-2.0"),
        ("https://opensource.org/license/lgpl-2-1", "LGPL-2.1-only"),
        ("https://www.gnu.org/licenses/gpl-3.0.html", "GPL-3.0-only"),
        ("http://www.gnu.org/licenses/old-licenses/gpl-2.0.html", "GPL-2.0-only"),
        ("http://www.gnu.org/licenses/lgpl.html", "LGPL-3.0-only"),
        ("https://spdx.org/licenses/MIT.html", "MIT"),
        ("http://json.codeplex.com/license", "MIT"),
    ],
)
def test_license_urls(url: str, spdx: str) -> None:
    assert normalize(url) == spdx
