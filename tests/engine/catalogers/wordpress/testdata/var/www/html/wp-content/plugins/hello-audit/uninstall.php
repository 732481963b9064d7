<?php
// helper, no header
function hello_audit_log( $what ) {}
